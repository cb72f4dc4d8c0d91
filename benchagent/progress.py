"""Showing a run's progress while it builds, from its events alone.

On a terminal: one status line redrawn in place (stage, samples accepted /
quota, rejected, LLM calls, tokens). Otherwise: structured JSON log lines
(structlog) when the stage changes and as samples are accepted. They are the
command's progress output, so they are written whatever the diagnostic log
level is. Both fold the log into the run's projections (`RunState`), so the
display works the same whether the agents run here or in other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TextIO

import structlog

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
        self._line_width = 0
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
            if self.interactive and self._line_width:
                self._stream.write("\n")
                self._stream.flush()

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
            line = (f"{self.run_id}  {stage:<12} accepted {accepted}/{quota or '?'}  "
                    f"rejected {rejected}  LLM calls {llm.calls}"
                    f"{f' ({llm.errors} failed)' if llm.errors else ''}  "
                    f"tokens {llm.tokens}")
            pad = max(0, self._line_width - len(line))
            self._stream.write("\r" + line + " " * pad)
            self._stream.flush()
            self._line_width = len(line)
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
