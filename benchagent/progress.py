"""Showing a run's progress while it builds, from its events alone.

On a terminal: a progress bar redrawn in place (tqdm): stage, samples accepted /
quota, rejected, LLM calls, tokens, and an ETA from the rate of acceptances.
Otherwise: structured JSON log lines (structlog) when the stage changes and as
samples are accepted. They are the
command's progress output, so they are written whatever the diagnostic log
level is. Both fold the log into the run's projections (`RunState`), so the
display works the same whether the agents run here or in other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any, TextIO

import structlog
from tqdm import tqdm

from replay.projections import RunState
from store.log import EventLog, StoreUnavailable


def progress_logger(stream: TextIO) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger of its own (not filtered by the diagnostic level): JSON lines."""
    return structlog.wrap_logger(
        structlog.PrintLogger(stream),
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.JSONRenderer(sort_keys=True)],
        wrapper_class=structlog.make_filtering_bound_logger(0),
    )


class Progress:
    def __init__(self, event_log: EventLog, run_id: str, *, stream: TextIO | None = None,
                 interactive: bool | None = None, interval_s: float = 0.25) -> None:
        self._log = event_log
        self.run_id = run_id
        self._stream = stream or sys.stderr
        self.interactive = self._stream.isatty() if interactive is None else interactive
        self._interval = interval_s
        self._state = RunState(run_id)
        self._stage = ""
        self._reported_accepted = -1
        self._bar: StatusBar | None = None
        self._lines = progress_logger(self._stream)

    async def run(self) -> None:
        """Poll the log and show progress until cancelled."""
        try:
            while True:
                try:
                    await self.update()
                except StoreUnavailable:  # a store restarting: show progress once it is back
                    pass
                await asyncio.sleep(self._interval)
        finally:
            with contextlib.suppress(StoreUnavailable):
                await self.update()
            if self._bar is not None:
                self._bar.close()

    async def update(self) -> None:
        state = self._state
        for env in await self._log.read(self.run_id, state.last_seq):
            state.fold(env)
        quota = state.slots.quota()
        accepted = len(state.slots.accepted_in_slots()) if state.slots.spec else 0
        rejected = len(state.samples.rejected)
        llm = state.llm
        stage = state.stage()
        if self.interactive:
            self._draw(stage, accepted, quota, rejected,
                       f"LLM calls {llm.calls}{f' ({llm.errors} failed)' if llm.errors else ''}"
                       f"  tokens {llm.tokens}")
            return
        if stage != self._stage:
            self._stage = stage
            self._lines.info("stage", run_id=self.run_id, stage=stage, llm_calls=llm.calls,
                             tokens=llm.tokens)
        step = max(1, quota // 10)
        if quota and accepted != self._reported_accepted and (
                accepted - max(self._reported_accepted, 0) >= step or accepted == quota):
            self._reported_accepted = accepted
            self._lines.info("samples", run_id=self.run_id, accepted=accepted, quota=quota,
                             rejected=rejected, llm_calls=llm.calls, tokens=llm.tokens)

    def _draw(self, stage: str, accepted: int, quota: int, rejected: int, calls: str) -> None:
        """The bar: accepted of the quota (unknown until allocation), calls, ETA."""
        desc = f"{self.run_id}  {stage:<11}"
        counts = f"rejected {rejected}  {calls}"
        if self._bar is None:
            self._bar = StatusBar(total=quota or None, initial=accepted, desc=desc, counts=counts,
                                  file=self._stream, dynamic_ncols=True, mininterval=0,
                                  smoothing=0.1, bar_format=BAR_FORMAT)
            return
        bar = self._bar
        bar.counts = counts
        if quota and bar.total != quota:
            bar.total = quota
        bar.set_description_str(desc, refresh=False)
        if accepted != bar.n:
            bar.update(accepted - bar.n)
        else:
            bar.refresh()


class StatusBar(tqdm):
    """A tqdm bar whose format may name `{counts}` (rejected, calls, tokens)."""

    def __init__(self, *args: Any, counts: str = "", **kwargs: Any) -> None:
        self.counts = counts  # before tqdm's first draw
        super().__init__(*args, **kwargs)

    @property
    def format_dict(self) -> dict[str, Any]:
        return {**super().format_dict, "counts": self.counts}


# run-x  realization accepted 7/12 |####    | rejected 2  LLM calls 31  tokens 9120  ETA 01:40
BAR_FORMAT = "{desc} accepted {n_fmt}/{total_fmt} |{bar:16}| {counts}  ETA {remaining}"
