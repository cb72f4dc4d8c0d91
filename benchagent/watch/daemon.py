"""The watcher's poll cycle. Its only state is the log, so a watcher killed at any moment
and started again carries on from what the log says.

Each cycle:
1. asks every source for its model list (a source that is down is logged, asked again
   next cycle, and withdraws nothing);
2. records in its own stream (`WATCH_STREAM`) each model a source lists for the first time
   (`ModelDiscovered`, id from source, model and appearance) and each one a source that
   answered stopped listing (`ModelWithdrawn`);
3. on every watched benchmark (`--benchmarks` and their refreshes, or every published run),
   records `ModelReleased` for each listed model not yet released there (id from source
   and model), within the day's call budget; the Evaluator answers it with
   `EvaluationScored` or `EvaluationFailed`, never twice (deterministic ids, recorded
   answers reused on resume);
4. records `BenchmarkSaturated` where the best model reached the threshold;
5. starts a saturated benchmark's refresh once its evaluations are settled, within the
   day's run budget (benchagent/watch/refresh.py); once published, writes its files to
   `<home>/runs/<run>/` (SQLite home) as `build` does;
6. touches its heartbeat file (the container's health check).

The agents (evaluations, refresh builds) run on the bus beside the cycle: in this process
(in-process bus) or wherever the role's workers are (NATS). On start, `resume` re-delivers
what a killed watcher left unhandled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import structlog

from benchagent.run import write_benchmark
from benchagent.watch import WATCH_STREAM, WATCHER
from benchagent.watch.budget import DailyBudget, calls_on, refreshes_on
from benchagent.watch.refresh import child_run_id, refresh_events
from benchagent.watch.saturation import new_saturations, scope_key
from bus.base import Bus, BusError
from replay.projections import RunState
from replay.projections.llm_usage import utc_day
from replay.projections.watch import WatchedModel, WatchStream
from store.blobs import BlobStore
from store.events import (
    BudgetExhausted,
    BudgetKind,
    Envelope,
    ModelDiscovered,
    ModelReleased,
    ModelWithdrawn,
    Payload,
    new_event,
)
from store.log import EventLog, LogError
from tools.model_sources import ListedModel, ModelSource, SourceDown

log = structlog.get_logger("benchagent.watch")


class WatchSettings(msgspec.Struct, frozen=True, kw_only=True):
    interval_s: float
    saturation: float
    budget: DailyBudget
    benchmarks: list[str] = []  # empty: every published run
    heartbeat: str | None = None
    runs_dir: str | None = None  # where a published refresh's files go (<home>/runs)


class Watcher:
    """`Watcher(log, bus, sources, settings).run(stopping)`; `cycle()` is one poll."""

    def __init__(self, event_log: EventLog, bus: Bus, sources: Sequence[ModelSource],
                 settings: WatchSettings, blobs: BlobStore, *, stream_delivers: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.log = event_log
        self.blobs = blobs  # a published refresh's media, for its files
        self.bus = bus
        self.sources = list(sources)
        self.settings = settings
        # NATS: appending publishes, the stream delivers. In-process: the bus must be told.
        self._stream_delivers = stream_delivers
        self._clock = clock
        self._states: dict[str, RunState] = {}
        self._stream = WatchStream()
        self._stream_seq = 0
        self.cycles = 0

    # -- running -------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve until `stopping` is set; then let the handlers in flight finish."""
        await self.bus.start()
        try:
            resumed = await self.bus.resume()
            log.info("watch.started", sources=[s.name for s in self.sources], resumed=resumed,
                     interval_s=self.settings.interval_s)
            while not stopping.is_set():
                try:
                    await self.cycle()
                except (LogError, BusError, OSError) as exc:  # the store is away: next cycle
                    log.warning("watch.cycle_failed", error=f"{type(exc).__name__}: {exc}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.settings.interval_s)
            log.info("watch.stopping")
        finally:
            await self.bus.stop()

    async def cycle(self) -> None:
        now = self._clock()
        day = utc_day(now)
        listings = await self._poll()
        await self._catch_up_stream()
        for source, listed in listings.items():
            if listed is not None:
                await self._note_listing(source, listed)
        everything = await self._all_states()
        watched = self._watched(everything)
        for state in watched:
            await self._release(state, everything, day)
        for state in watched:
            await self._saturation(state)
        for state in watched:
            await self._refresh(state, everything, day)
            await self._write_refresh(state)
        self.cycles += 1
        self._beat(now, listings, len(watched))

    # -- sources -------------------------------------------------------------

    async def _poll(self) -> dict[str, list[ListedModel] | None]:
        async def one(source: ModelSource) -> list[ListedModel] | None:
            try:
                return await source.list_models()
            except SourceDown as exc:
                log.warning("watch.source_down", source=source.name, error=str(exc))
                return None

        found = await asyncio.gather(*(one(s) for s in self.sources))
        return {s.name: listed for s, listed in zip(self.sources, found, strict=True)}

    async def _catch_up_stream(self) -> None:
        for env in await self.log.read(WATCH_STREAM, self._stream_seq):
            self._stream.fold(env)
            self._stream_seq = env.seq

    async def _append_stream(self, payload: Payload, key: str) -> None:
        await self.log.append([new_event(WATCH_STREAM, WATCHER, payload, None, key=key)])
        await self._catch_up_stream()

    async def _note_listing(self, source: str, listed: list[ListedModel]) -> None:
        known = {m.model: m for m in self._stream.of_source(source)}
        now_listed = {m.spec: m for m in listed}
        for spec, model in now_listed.items():
            seen = known.get(spec)
            if seen is not None and seen.active:
                continue
            appearance = 1 if seen is None else seen.appearance + 1
            log.info("watch.model_discovered", source=source, model=spec, appearance=appearance)
            await self._append_stream(ModelDiscovered(source=source, model=spec,
                                                      key_env=model.key_env,
                                                      appearance=appearance),
                                      key=f"{source}|{spec}|{appearance}")
        for spec, seen in known.items():
            if seen.active and spec not in now_listed:
                log.info("watch.model_withdrawn", source=source, model=spec)
                await self._append_stream(ModelWithdrawn(source=source, model=spec,
                                                         appearance=seen.appearance),
                                          key=f"{source}|{spec}|{seen.appearance}|withdrawn")

    # -- benchmarks ----------------------------------------------------------

    async def _state(self, run_id: str) -> RunState:
        state = self._states.get(run_id)
        if state is None:
            state = self._states[run_id] = RunState(run_id)
        for env in await self.log.read(run_id, state.last_seq):
            state.fold(env)
        return state

    async def _all_states(self) -> list[RunState]:
        return [await self._state(r) for r in await self.log.runs() if r != WATCH_STREAM]

    def _watched(self, states: list[RunState]) -> list[RunState]:
        """Published, not failed, and named by `--benchmarks` or refreshing one that is."""
        named = set(self.settings.benchmarks)
        if named:  # refreshes join their lineage (a parent is always recorded first)
            for state in sorted(states, key=lambda s: s.lineage.version):
                if state.lineage.parent in named:
                    named.add(state.run_id)
        return [s for s in states
                if (not named or s.run_id in named) and s.publication.event is not None
                and s.status.failed is None and s.request.event is not None]

    async def _release(self, state: RunState, everything: list[RunState], day: str) -> None:
        pub = state.publication.payload
        assert pub is not None
        for model in self._stream.active():
            if model.model in state.evaluations.released or state.evaluations.settled(model.model):
                continue
            needed = len(pub.sample_ids)
            committed = calls_on(day, everything) + _still_to_call(everything)
            if committed + needed > self.settings.budget.calls:
                await self._stopped(day, "calls", self.settings.budget.calls, committed, needed,
                                    f"evaluate {model.model} on {state.run_id}")
                continue
            await self._submit(state.run_id, _released(state.run_id, model))
            log.info("watch.model_released", run_id=state.run_id, model=model.model)

    async def _submit(self, run_id: str, env: Envelope[Payload]) -> None:
        await self.bus.submit(env)  # appended (a no-op when the log has it), then delivered
        await self._state(run_id)

    async def _saturation(self, state: RunState) -> None:
        for saturated, cause in new_saturations(state, self.settings.saturation):
            await self.log.append([new_event(state.run_id, WATCHER, saturated, cause.event_id,
                                             key=scope_key(saturated))])
            log.info("watch.saturated", run_id=state.run_id, scope=saturated.scope,
                     subtask=saturated.subtask, model=saturated.model,
                     accuracy=saturated.accuracy)
        await self._state(state.run_id)

    async def _refresh(self, state: RunState, everything: list[RunState], day: str) -> None:
        if not state.lineage.saturations:
            return
        child = child_run_id(state)
        if await self.log.last_seq(child):
            return  # started already (its agents carry on; a restart resumes it)
        if any(not state.evaluations.settled(m) for m in state.evaluations.released):
            return  # the separation check needs every known model's score
        budget = self.settings.budget
        runs = refreshes_on(day, everything)
        if runs >= budget.runs:
            await self._stopped(day, "runs", budget.runs, runs, 1, f"refresh {state.run_id}")
            return
        calls = calls_on(day, everything)
        if calls >= budget.calls:
            await self._stopped(day, "calls", budget.calls, calls, 1, f"refresh {state.run_id}")
            return
        scored = [s.model for s in state.evaluations.scores]
        events = await asyncio.to_thread(refresh_events, state, scored)  # probes generators
        await self.log.append(events)
        if not self._stream_delivers:
            await self.bus.resume(child)
        log.info("watch.refresh_started", parent=state.run_id, run_id=child)

    async def _write_refresh(self, state: RunState) -> None:
        """A published refresh's files in `<home>/runs/<run>/`, as `build` writes a run's."""
        if self.settings.runs_dir is None or state.lineage.refresh is None:
            return
        out = Path(self.settings.runs_dir) / state.run_id
        if state.status.completed is not None and not out.exists():
            await write_benchmark(state, out, self.blobs)
            log.info("watch.refresh_written", run_id=state.run_id, out_dir=str(out))

    async def _stopped(self, day: str, kind: BudgetKind, limit: int, used: int, needed: int,
                       what: str) -> None:
        key = f"{day}|{kind}|{what}"
        if any(f"{e.payload.day}|{e.payload.kind}|{e.payload.stopped}" == key
               for e in self._stream.budget_stops):
            return
        log.warning("watch.budget_exhausted", kind=kind, limit=limit, used=used, stopped=what)
        await self._append_stream(BudgetExhausted(day=day, kind=kind, limit=limit, used=used,
                                                  needed=needed, stopped=what), key=key)

    # -- health --------------------------------------------------------------

    def _beat(self, now: float, listings: dict[str, list[ListedModel] | None],
              watched: int) -> None:
        """The heartbeat file, replaced whole: the time of the last complete cycle."""
        if not self.settings.heartbeat:
            return
        path = Path(self.settings.heartbeat)
        doc = {"time": now, "cycles": self.cycles, "watched": watched,
               "sources": {name: ("up" if listed is not None else "down")
                           for name, listed in listings.items()}}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc, sort_keys=True))
        tmp.replace(path)


def _released(run_id: str, model: WatchedModel) -> Envelope[ModelReleased]:
    """The release of a model on a benchmark; its id comes from the source and the model."""
    return new_event(run_id, WATCHER, ModelReleased(
        model=model.model, source=model.source, key_env=model.key_env,
        discovered_at=model.discovered_at), None, key=f"{model.source}|{model.model}")


def _still_to_call(states: list[RunState]) -> int:
    """Calls the evaluations started and not settled will still make (one per item, at least)."""
    total = 0
    for state in states:
        pub = state.publication.payload
        if pub is None:
            continue
        pending = [m for m in state.evaluations.released if not state.evaluations.settled(m)]
        total += len(pending) * len(pub.sample_ids)
    return total
