"""Logging set-up: AutoGen's tracebacks for handlers we cancel on purpose are dropped."""

from __future__ import annotations

import asyncio
import logging
import sys

from benchagent.logs import configure_logging


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord("autogen_core", logging.ERROR, __file__, 1,
                             "Error processing publish message", None, info)


def test_cancelled_handlers_leave_no_traceback_but_real_errors_do() -> None:
    configure_logging()
    autogen = logging.getLogger("autogen_core")
    assert not autogen.filter(_record(asyncio.CancelledError()))
    assert autogen.filter(_record(KeyError("answer_text")))
    configure_logging()  # idempotent: one filter, not two
    assert len(autogen.filters) == 1
