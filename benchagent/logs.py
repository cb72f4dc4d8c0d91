"""Structured logs: structlog to stderr, so stdout stays for results and `--json` documents."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TextIO, cast

import structlog


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is now (tests and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _DropCancellations(logging.Filter):
    """AutoGen logs a traceback for every handler it sees cancelled; we cancel in-flight
    handlers on purpose when a run stops (and the bus logs that once), so those are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


_drop_cancellations = _DropCancellations()


def configure_logging(level: str | None = None) -> None:
    """Human-readable lines on a terminal, JSON lines otherwise (`BENCHAGENT_LOG_LEVEL`)."""
    name = (level or os.environ.get("BENCHAGENT_LOG_LEVEL", "warning")).upper()
    renderer = (
        structlog.dev.ConsoleRenderer(colors=False)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, name, logging.WARNING)),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
    autogen = logging.getLogger("autogen_core")
    if _drop_cancellations not in autogen.filters:
        autogen.addFilter(_drop_cancellations)
