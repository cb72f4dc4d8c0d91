"""`Sandbox`: the host side of one live sandboxed module.

    with Sandbox(source, budgets=Budgets(lines=100_000)) as box:
        loaded = box.start()              # CallResult of loading the module
        result = box.call("sample", 7, {"n": 3})
        result.ok, result.value, result.error   # error.kind in wire.ErrorKind

One sandbox is one process holding one module: calls after the first reuse it (a warm
worker), so the module keeps its state between calls — never between modules. The host
enforces the wall-clock budget of every call by killing the sandbox; a dead sandbox answers
every later call with the error that killed it, and `start()` may be called again for a
fresh one. `run_module` is the one-shot form.
"""

from __future__ import annotations

import base64
import binascii
import os
import selectors
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import msgspec
import structlog

from tools.sandbox import jail
from tools.sandbox.allowlist import ALLOWED_MODULES, MEDIA_ALLOWED
from tools.sandbox.wire import (
    Budgets,
    CallRequest,
    CallResult,
    ErrorKind,
    LoadRequest,
    Reply,
    SandboxError,
)

log = structlog.get_logger(__name__)

FILENAME = "<generator>"
STDERR_TAIL = 4000  # characters of the sandbox's stderr kept for error messages
_CLOSE_SECONDS = 2.0
_REPLY_SLACK = 1 << 20  # the worker's own fields around an output-budget-sized value
_ENCODER = msgspec.json.Encoder()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL bwrap's process group; --die-with-parent and the PID namespace take the rest."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _safe_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..")
                                                           for p in parts)


class Sandbox:
    """One module in one sandboxed interpreter (see the module docstring)."""

    def __init__(
        self, source: str, *, budgets: Budgets | None = None,
        allowed: Sequence[str] = ALLOWED_MODULES, hash_seed: int = 0,
    ) -> None:
        self.source = source
        self.budgets = budgets or Budgets()
        self.allowed = list(allowed)
        self.hash_seed = hash_seed
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._buffer = b""
        self._stderr: list[str] = []
        self._next_id = 1
        self._dead: SandboxError | None = None
        self._load_error: SandboxError | None = None
        self._lock = threading.Lock()

    # -- lifetime ----------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._dead is None and self._proc.poll() is None

    def start(self) -> CallResult:
        """Start a fresh sandbox (closing any previous one) and load the module into it.

        Raises `jail.SandboxUnavailable` when bubblewrap cannot run here."""
        with self._lock:
            self._close_locked()
            packages = [p for p in MEDIA_ALLOWED if p in self.allowed]
            cmd = jail.command(packages=packages, disk_bytes=self.budgets.disk_bytes,
                               hash_seed=self.hash_seed)
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, close_fds=True)
            self._finalizer = weakref.finalize(self, _kill, self._proc)
            self._buffer, self._stderr, self._dead, self._next_id = b"", [], None, 1
            threading.Thread(target=self._drain_stderr, args=(self._proc,), daemon=True,
                             name="sandbox-stderr").start()
            request = LoadRequest(source=self.source, filename=FILENAME,
                                  allowed=self.allowed, budgets=self.budgets)
            loaded = self._exchange("<load>", request, 0)
            self._load_error = loaded.error
            return loaded

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()  # the worker exits on end of input
            proc.wait(timeout=_CLOSE_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            pass
        _kill(proc)
        if proc.stdout:
            proc.stdout.close()
        if self._finalizer is not None:
            self._finalizer.detach()

    # -- calls -------------------------------------------------------------------------------

    def call(self, function: str, *args: Any, collect_files: bool = False,
             **kwargs: Any) -> CallResult:
        """Call `function(*args, **kwargs)` in the module; arguments and value are JSON."""
        with self._lock:
            if self._proc is None:
                raise RuntimeError("Sandbox.call before start()")
            if self._dead is not None:
                return CallResult(function=function, ok=False, error=SandboxError(
                    kind=self._dead.kind, message=f"the sandbox is dead: {self._dead.message}"))
            if self._load_error is not None:
                return CallResult(function=function, ok=False, error=SandboxError(
                    kind=self._load_error.kind,
                    message=f"the module did not load: {self._load_error.message}"))
            rid, self._next_id = self._next_id, self._next_id + 1
            request = CallRequest(id=rid, function=function, args=list(args), kwargs=kwargs,
                                  collect_files=collect_files)
            return self._exchange(function, request, rid)

    def _exchange(self, function: str, request: LoadRequest | CallRequest,
                  rid: int) -> CallResult:
        started = time.perf_counter()
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(_ENCODER.encode(request) + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the reply read below reports how it died
        line, error = self._read_line(self.budgets.wall_seconds)
        wall = time.perf_counter() - started
        if error is not None:
            self._dead = error
            _kill(proc)
            return CallResult(function=function, ok=False, error=error, wall_seconds=wall)
        reply: Reply | None = None
        try:
            reply = msgspec.json.decode(line, type=Reply)
            problem = "" if reply.id == rid else f"reply to request {reply.id}, not {rid}"
        except msgspec.DecodeError as exc:
            problem = f"the reply is not a well-formed answer: {exc}"
        if reply is None or problem:
            self._dead = SandboxError(kind="protocol", message=problem)
            _kill(proc)
            return CallResult(function=function, ok=False, error=self._dead, wall_seconds=wall)
        files: dict[str, bytes] = {}
        for name, data in reply.files.items():
            try:
                if not _safe_relative(name):
                    raise ValueError(name)
                files[name] = base64.b64decode(data, validate=True)
            except (ValueError, binascii.Error):
                return CallResult(function=function, ok=False, wall_seconds=wall,
                                  error=SandboxError(kind="protocol",
                                                     message=f"bad file in reply: {name!r}"))
        return CallResult(
            function=function, ok=reply.ok, value=reply.value, error=reply.error,
            lines=reply.lines, cpu_seconds=reply.cpu_seconds, wall_seconds=wall,
            stdout=reply.stdout, files=files, forbidden_imports=reply.forbidden_imports)

    def _read_line(self, seconds: float) -> tuple[bytes, SandboxError | None]:
        """One reply line within `seconds`; else the error that ended the sandbox."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        limit = self.budgets.output_bytes + _REPLY_SLACK
        deadline = time.monotonic() + seconds
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if len(self._buffer) > limit:
                    return b"", SandboxError(
                        kind="output", message=f"the reply exceeds {limit} bytes: killed")
                left = deadline - time.monotonic()
                if left <= 0:
                    return b"", SandboxError(
                        kind="timeout", message=f"no answer within the wall-clock budget of "
                        f"{seconds:g} s: killed")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b"", self._death()
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line, None

    def _death(self) -> SandboxError:
        """Why the sandbox ended without answering, from its exit status and stderr."""
        proc = self._proc
        assert proc is not None
        try:
            code = proc.wait(timeout=_CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill(proc)
            code = proc.returncode
        # bwrap reports a child killed by signal N as exit status 128 + N.
        signum = -code if code < 0 else code - 128 if code > 128 else 0
        tail = "".join(self._stderr)[-STDERR_TAIL:].strip()
        how = f"exit status {code}"
        kind: ErrorKind = "killed"
        if signum:
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = str(signum)
            how = f"signal {name}"
            if signum == signal.SIGXCPU:
                kind = "cpu"
            elif signum == signal.SIGXFSZ:
                kind = "disk"
        message = f"the sandbox died without answering ({how})"
        if tail:
            message += f": {tail}"
        return SandboxError(kind=kind, message=message)

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        """Keep the tail of stderr; reading it all stops a chatty module from blocking."""
        assert proc.stderr is not None
        fd, kept = proc.stderr.fileno(), 0
        while raw := os.read(fd, 1 << 14):
            self._stderr.append(raw.decode("utf-8", "replace"))
            kept += len(self._stderr[-1])
            while kept > 2 * STDERR_TAIL and len(self._stderr) > 1:
                kept -= len(self._stderr.pop(0))
        proc.stderr.close()


def run_module(
    source: str, calls: Sequence[tuple[str, Sequence[Any]]], *, budgets: Budgets | None = None,
    allowed: Sequence[str] = ALLOWED_MODULES, hash_seed: int = 0,
) -> tuple[CallResult, list[CallResult]]:
    """Load `source` in a fresh sandbox and make each call (function, positional args) in
    order: (the load's result, one result per call). Calls after a load that failed are not
    made; they carry the load's error."""
    with Sandbox(source, budgets=budgets, allowed=allowed, hash_seed=hash_seed) as box:
        loaded = box.start()
        return loaded, [box.call(f, *args) for f, args in calls]
