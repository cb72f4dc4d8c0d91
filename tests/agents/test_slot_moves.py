"""A slot whose dataset grounding fills nothing moves to a sibling generator grounding that
works (the calendar requirement's case), or else to a sibling dataset that keeps enough (the
temporal requirement's), drawing instances no other slot can draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from agents.keys import sample_id
from agents.orchestrator.slot_moves import source_order
from agents.orchestrator.slots import next_attempt, source_for
from agents.sources import PoolCache
from replay.projections import RunState
from store import events as ev
from store.events import Envelope, new_event

DATASET = ev.Quota(subtask="s", dataset_id="37a67448", plan_id="p-data", count=3)
GENERATOR = ev.Quota(subtask="s", dataset_id="gen-calendar", plan_id="p-gen", count=2)
OTHER = ev.Quota(subtask="t", dataset_id="7fb63e11", plan_id="p-other", count=1)


class Run:
    """A run's log under construction: the request, the spec, then slot fates."""

    def __init__(self, general_bench: Path,
                 quotas: tuple[ev.Quota, ...] = (DATASET, GENERATOR, OTHER),
                 **config: Any) -> None:
        req = new_event("r", "cli", ev.RunRequested(
            requirement="x", size=6, seed=5, pools=[str(general_bench)],
            config={"generators": True, **config}), None)
        spec = new_event("r", "allocation", ev.SpecFinalized(
            subtasks=[], plans=[], quotas=list(quotas)), req.event_id)
        self.events: list[Envelope[Any]] = [req, spec]
        self.pool = PoolCache().for_request(req.payload)

    def state(self) -> RunState:
        return RunState.of([msgspec.structs.replace(e, seq=i + 1)
                            for i, e in enumerate(self.events)], "r")

    def assign(self, q: ev.Quota, slot: int, item: str = "") -> ev.SlotAssigned:
        """Attempt 1 of the slot, on `item` (default: the item its position gives)."""
        if not item:
            state = self.state()
            item = (source_for(state, self.pool, q.dataset_id, q.plan_id, q.subtask, slot, 1)[0]
                    if not self.pool.card(q.dataset_id).generator else "x")
        p = ev.SlotAssigned(sample_id=sample_id(q.subtask, q.dataset_id, slot, 1), slot=slot,
                            subtask=q.subtask, dataset_id=q.dataset_id, plan_id=q.plan_id,
                            source_item_id=item, attempt=1)
        self.add("orchestrator", p)
        return p

    def add(self, agent: str, payload: ev.Payload) -> None:
        self.events.append(new_event("r", agent, payload, self.events[1].event_id))

    def accept(self, slot: ev.SlotAssigned) -> None:
        self.add("verifier", ev.SampleAccepted(sample_id=slot.sample_id, subtask=slot.subtask))

    def reject(self, slot: ev.SlotAssigned | ev.QuotaShortfall,
               check: ev.CheckName | ev.ItemCheckName = "answer_matches"
               ) -> ev.ReplenishRequested:
        assert isinstance(slot, ev.SlotAssigned)
        self.add("verifier", ev.SampleRejected(sample_id=slot.sample_id, subtask=slot.subtask,
                                               check=check, reason="r"))
        replenish = ev.ReplenishRequested(subtask=slot.subtask,
                                          dataset_id=slot.quota_dataset_id,
                                          plan_id=slot.quota_plan_id, slot=slot.slot,
                                          replaces=slot.sample_id)
        self.add("verifier", replenish)
        return replenish

    def next(self, replenish: ev.ReplenishRequested) -> ev.SlotAssigned | ev.QuotaShortfall:
        payload, _ = next_attempt(replenish, self.state(), self.pool)
        if isinstance(payload, ev.SlotAssigned):
            self.add("orchestrator", payload)
        assert isinstance(payload, ev.SlotAssigned | ev.QuotaShortfall)
        return payload


def test_a_slot_whose_grounding_fills_nothing_moves_to_a_working_generator(
        general_bench: Path) -> None:
    run = Run(general_bench)
    gen0 = run.assign(GENERATOR, 0, "calendar#0")
    run.accept(gen0)
    first = run.assign(DATASET, 0)
    # One model-checked rejection: the slot stays on its dataset.
    second = run.next(run.reject(first))
    assert isinstance(second, ev.SlotAssigned) and second.moved_from is None
    assert second.dataset_id == "37a67448" and second.attempt == 2
    # A free rejection does not count towards a move.
    third = run.next(run.reject(second, check="register"))
    assert isinstance(third, ev.SlotAssigned) and third.moved_from is None
    # The second model-checked rejection moves it: its own sample ids, the generator's plan.
    moved = run.next(run.reject(third))
    assert isinstance(moved, ev.SlotAssigned) and moved.moved_from is not None
    assert (moved.dataset_id, moved.plan_id) == ("gen-calendar", "p-gen")
    assert (moved.moved_from.dataset_id, moved.moved_from.plan_id) == ("37a67448", "p-data")
    assert "keeps 0% of the items a model judged" in moved.moved_from.reason
    assert moved.sample_id == sample_id("s", "37a67448", 0, 4)
    capacity = run.pool.capacity("gen-calendar")
    assert moved.source_item_id == f"calendar#{capacity - 1}"  # slot 0 of 3 that may move
    # Accepted there, it fills the dataset quota's slot.
    run.accept(moved)
    state = run.state()
    assert state.slots.slot_state(("s", "37a67448", "p-data", 0)) == "accepted"
    assert sample_id("s", "37a67448", 0, 4) in state.slots.accepted_in_slots()


def test_moved_slots_never_share_an_instance_and_stay_where_they_moved(
        general_bench: Path) -> None:
    run = Run(general_bench, max_attempts=3)
    run.accept(run.assign(GENERATOR, 0, "calendar#0"))
    moved = {}
    for slot in (0, 2):
        attempt = run.next(run.reject(run.assign(DATASET, slot)))
        landed = run.next(run.reject(attempt))
        assert isinstance(landed, ev.SlotAssigned)
        moved[slot] = landed
    capacity = run.pool.capacity("gen-calendar")
    assert moved[0].source_item_id == f"calendar#{capacity - 1}"
    assert moved[2].source_item_id == f"calendar#{capacity - 3}"
    # Rejected there too, the slot tries the generator again, V = 3 positions further down.
    again = run.next(run.reject(moved[0]))
    assert isinstance(again, ev.SlotAssigned) and again.dataset_id == "gen-calendar"
    assert again.source_item_id == f"calendar#{capacity - 1 - 3}"
    # Attempts count where they were made: max_attempts on the generator, then short.
    third = run.next(run.reject(again))
    assert isinstance(third, ev.SlotAssigned)
    short = run.next(run.reject(third))
    assert isinstance(short, ev.QuotaShortfall) and "where it moved" in short.reason
    drawn = [a.source_item_id for a in run.state().slots.slots.values()
             if a.dataset_id == "gen-calendar"]
    assert len(drawn) == len(set(drawn))


def test_no_move_without_a_generator_that_filled_a_slot_or_when_turned_off(
        general_bench: Path) -> None:
    # The generator has not filled a slot yet: the slot keeps trying its own dataset.
    run = Run(general_bench)
    attempt = run.next(run.reject(run.assign(DATASET, 1)))
    attempt = run.next(run.reject(attempt))
    assert isinstance(attempt, ev.SlotAssigned) and attempt.moved_from is None
    # move_after 0: never, even when the slot would be short.
    off = Run(general_bench, move_after=0, max_attempts=2)
    off.accept(off.assign(GENERATOR, 0, "calendar#0"))
    attempt = off.next(off.reject(off.assign(DATASET, 1)))
    short = off.next(off.reject(attempt))
    assert isinstance(short, ev.QuotaShortfall)
    # A subtask without a generator grounding has nowhere to move.
    alone = Run(general_bench, max_attempts=1)
    alone.accept(alone.assign(GENERATOR, 0, "calendar#0"))
    assert isinstance(alone.next(alone.reject(alone.assign(OTHER, 0))), ev.QuotaShortfall)


def test_a_grounding_that_keeps_enough_keeps_its_slots_until_they_would_be_short(
        general_bench: Path) -> None:
    run = Run(general_bench, max_attempts=3)
    run.accept(run.assign(GENERATOR, 0, "calendar#0"))
    run.accept(run.assign(DATASET, 1))  # the dataset works for some slots
    attempt = run.next(run.reject(run.assign(DATASET, 0)))
    # Two model-checked rejections, but the dataset keeps 1 of 3 (above 25%): no move yet.
    attempt = run.next(run.reject(attempt))
    assert isinstance(attempt, ev.SlotAssigned) and attempt.moved_from is None
    # Its third would leave the slot short: it moves instead.
    moved = run.next(run.reject(attempt))
    assert isinstance(moved, ev.SlotAssigned) and moved.moved_from is not None
    assert "max_attempts 3" in moved.moved_from.reason


def test_a_move_the_generator_cannot_take_leaves_the_slot_on_its_dataset(
        general_bench: Path) -> None:
    run = Run(general_bench, max_attempts=3)
    top = run.pool.capacity("gen-calendar") - 1
    run.accept(run.assign(GENERATOR, 0, f"calendar#{top}"))  # its own slots reached the top
    attempt = run.next(run.reject(run.assign(DATASET, 0)))
    attempt = run.next(run.reject(attempt))
    assert isinstance(attempt, ev.SlotAssigned) and attempt.moved_from is None
    assert attempt.dataset_id == "37a67448" and attempt.attempt == 3
    # Out of attempts with nowhere to move: short, for the dataset's own reason.
    short = run.next(run.reject(attempt))
    assert isinstance(short, ev.QuotaShortfall) and "max_attempts 3" in short.reason


TIMEBANK = ev.Quota(subtask="d", dataset_id="ca4f9ec3", plan_id="p-news", count=2)
DIALOGUES = ev.Quota(subtask="d", dataset_id="37a67448", plan_id="p-dialogue", count=2)


def test_without_a_generator_a_slot_moves_to_a_sibling_dataset_that_keeps_enough(
        general_bench: Path) -> None:
    run = Run(general_bench, (TIMEBANK, DIALOGUES))
    run.accept(run.assign(DIALOGUES, 0))
    attempt = run.next(run.reject(run.assign(TIMEBANK, 1)))
    moved = run.next(run.reject(attempt))
    assert isinstance(moved, ev.SlotAssigned) and moved.moved_from is not None
    assert (moved.dataset_id, moved.plan_id) == ("37a67448", "p-dialogue")
    assert "while 37a67448 filled slots of d" in moved.moved_from.reason
    # Slot 1 of TimeBank is the second of the two that may move: the last item but one.
    items, order = source_order(run.state(), run.pool, "37a67448")
    assert moved.source_item_id == items[order[len(items) - 2]].id
    # Rejected there, it stays and draws V = 2 positions further down.
    again = run.next(run.reject(moved))
    assert isinstance(again, ev.SlotAssigned) and again.dataset_id == "37a67448"
    assert again.source_item_id == items[order[len(items) - 4]].id


def test_no_move_to_a_sibling_dataset_that_keeps_too_little(general_bench: Path) -> None:
    run = Run(general_bench, (TIMEBANK, DIALOGUES), max_attempts=5)
    run.accept(run.assign(DIALOGUES, 0))
    attempt: ev.SlotAssigned | ev.QuotaShortfall = run.assign(DIALOGUES, 1)
    for _ in range(4):  # the dialogues keep 1 of the 5 items judged: 20%
        attempt = run.next(run.reject(attempt))
    assert isinstance(attempt, ev.SlotAssigned) and attempt.dataset_id == "37a67448"
    first = run.next(run.reject(run.assign(TIMEBANK, 0)))
    stays = run.next(run.reject(first))
    assert isinstance(stays, ev.SlotAssigned) and stays.moved_from is None
    assert stays.dataset_id == "ca4f9ec3"


def test_a_datasets_own_slots_pass_over_the_items_moved_slots_drew(
        general_bench: Path) -> None:
    run = Run(general_bench, (TIMEBANK, DIALOGUES))
    run.accept(run.assign(DIALOGUES, 0))  # leaves its positions 2 + 2b to slot 1
    items, order = source_order(run.state(), run.pool, "37a67448")
    # A moved slot holds the item slot 1 would draw next (position 1 + 2 = 3).
    run.add("orchestrator", ev.SlotAssigned(
        sample_id=sample_id("d", "ca4f9ec3", 0, 3), slot=0, subtask="d",
        dataset_id="37a67448", plan_id="p-dialogue", source_item_id=items[order[3]].id,
        attempt=3, moved_from=ev.SlotMove(dataset_id="ca4f9ec3", plan_id="p-news",
                                          reason="r")))
    second = run.next(run.reject(run.assign(DIALOGUES, 1)))
    assert isinstance(second, ev.SlotAssigned)
    assert second.source_item_id == items[order[4]].id  # the first position slot 0 left it
