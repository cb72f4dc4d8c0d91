"""The run view: an incremental fold over the log gives the same state as a full one."""

from __future__ import annotations

from agents.run_view import RunView, ViewCache
from tests.replay.synthetic_run import synthetic_run


def sequenced(run_id: str, n: int):
    events = synthetic_run(run_id, samples=n, reject_every=4)
    import msgspec

    return [msgspec.structs.replace(e, seq=i + 1) for i, e in enumerate(events)]


def test_incremental_fold_matches_a_full_fold() -> None:
    events = sequenced("r", 30)
    full = RunView("r")
    for e in events:
        full.fold(e)
    cache = ViewCache()
    for cut in (3, 10, 17, len(events)):
        view = cache.fold("r", events[:cut])
    assert view.last_seq == full.last_seq == len(events)
    assert view.accepted.keys() == full.accepted.keys() and len(view.accepted) == 23
    assert view.rejected.keys() == full.rejected.keys()
    assert view.published is not None and view.stage() == "evaluation"
    assert view.accepted_in_slots() == sorted(view.accepted)


def test_slots_resolve_when_filled_or_reported_short() -> None:
    events = sequenced("r", 8)
    view = ViewCache().fold("r", events)
    # The synthetic run rejects slots 3 and 7 without replenishing them: not resolved.
    assert not view.all_slots_resolved()
    assert view.slot_state(("cause", "d1", "p1", 0)) == "accepted"
    assert view.slot_state(("cause", "d1", "p1", 3)) == "pending"


def test_views_of_old_runs_are_evicted() -> None:
    cache = ViewCache(max_runs=2)
    for run in ("a", "b", "c"):
        cache.fold(run, sequenced(run, 2))
    assert list(cache._views) == ["b", "c"]
