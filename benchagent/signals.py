"""SIGTERM (what `docker stop`, systemd and CI send) ends a command the way Ctrl-C does.

Without a handler SIGTERM kills the process at once: no handler in flight is let
finish, no word is printed. `terminate_like_interrupt()` routes it to whatever
handles SIGINT at that moment: inside `asyncio.run` that is asyncio's own
handler, which cancels the main task, so the bus stops taking events and gives
handlers in flight their grace period before `KeyboardInterrupt` comes out of
`asyncio.run`; elsewhere it raises `KeyboardInterrupt` directly. The CLI then
exits with 128 + the signal's number (143 for SIGTERM, 130 for SIGINT).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_received: list[int] = []


def terminate_like_interrupt() -> None:
    """Install the SIGTERM handler. Only the main thread can: the CLI called from another
    thread (a test, an embedding program) leaves signals to that program."""
    _received.clear()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_terminate)


def _on_terminate(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signal.SIGINT, frame)  # asyncio.run's: cancel the main task, let it unwind
        return
    raise KeyboardInterrupt


def interrupting_signal() -> signal.Signals:
    """The signal that interrupted the command: SIGTERM if one came, else SIGINT (Ctrl-C)."""
    return signal.Signals(_received[-1]) if _received else signal.SIGINT
