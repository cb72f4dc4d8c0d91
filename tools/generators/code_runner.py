"""Run several versions of a function on several calls, in an isolated worker subprocess.

The worker is `python -I -S` (no site, no user paths: nothing imported but
what it needs) started once per process and reused: each request is a
length-prefixed `marshal` frame on its stdin, each reply one on its stdout.
marshal is built in and keeps types exact (a tuple stays a tuple), which the
answers, `repr`s of returned values, depend on. Reuse saves a Python start-up
per request; what makes it safe:

- each request gets what a fresh worker would give: programs run in a fresh
  namespace, and after every request the worker compares its state with the
  state it started in (builtins, `sys`, loaded modules, its own globals,
  recursion limit, tracer, alarm handler, threads, working directory, memory
  limit); if a program changed any of it, or ran out of memory, the worker
  replies and exits, and the next request starts a new one;
- programs cannot reach the protocol: their stdin and stdout are /dev/null;
- a request that overruns its timeout, or a worker that crashes, is killed
  and reported as `RunnerError`; the next request starts a new worker.
  Workers are also replaced after `MAX_REQUESTS` requests.

Runaway mutants (infinite loops, integers or lists that keep growing) are
stopped by a budget of executed lines and of local value sizes, enforced with
`sys.settrace`: unlike a wall-clock limit it gives the same verdict on a busy
machine, so sampling stays deterministic. A wall-clock alarm per call and the
timeout on the whole request are only backstops. A call that exceeds a budget
or exhausts memory marks its program *unstable* and the rest of its calls are
skipped.

Outcomes per call: ("ok", value) — value as marshal can carry it, else its
repr under "repr" —, ("raise", exception type name), ("unstable", reason) or
("skipped", None).
"""

from __future__ import annotations

import atexit
import marshal
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import msgspec

CALL_LINES = 2_000  # executed lines per call; catalogue functions need well under 100
CALL_SECONDS = 1.0  # wall-clock backstop per call
REQUEST_SECONDS = 30.0  # wall-clock backstop per request
MEMORY_BYTES = 512 * 1024 * 1024
MAX_REQUESTS = 1_000  # a worker is replaced after this many requests
MAX_IDLE = 4  # idle workers kept for reuse; one per concurrently calling thread

_HEADER = 8  # bytes of the big-endian length before each frame
_MAX_REPLY = 256 * 1024 * 1024

_WORKER = r"""
import _signal, _thread, builtins, marshal, posix, resource, sys  # _signal: signal.py pulls enum

class _Budget(BaseException):
    pass

def _alarm(signum, frame):
    raise _Budget()

def _tracer_for(limit):
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                raise _Budget()
            # Runaway growth (a * b in a loop) would make one line take seconds.
            for v in frame.f_locals.values():
                if (type(v) is int and v.bit_length() > 4096) or (
                        type(v) in (list, str) and len(v) > 100000):
                    raise _Budget()
        return tracer

    return tracer

def _run(req):
    # Returns (outcomes per program, whether memory ran out).
    reply, out_of_memory = [], False
    for source in req["programs"]:
        outcomes = []
        reply.append(outcomes)
        env = {"__builtins__": builtins, "__name__": "candidate"}
        try:
            exec(compile(source, "<candidate>", "exec"), env)
            fn = env[req["function"]]
        except BaseException as exc:
            outcomes.extend([("raise", type(exc).__name__)] * len(req["calls"]))
            continue
        stable = True
        for call in req["calls"]:
            if not stable:
                outcomes.append(("skipped", None))
                continue
            args = marshal.loads(marshal.dumps(call))
            try:
                _signal.setitimer(_signal.ITIMER_REAL, req["seconds"])
                sys.settrace(_tracer_for(req["lines"]))
                try:
                    value = fn(*args)
                finally:
                    sys.settrace(None)
                    _signal.setitimer(_signal.ITIMER_REAL, 0)
                try:
                    marshal.dumps(value)
                    outcomes.append(("ok", value))
                except ValueError:
                    outcomes.append(("repr", repr(value)[:200]))
            except _Budget:
                stable = False
                outcomes.append(("unstable", "budget"))
            except (MemoryError, RecursionError) as exc:
                stable = False
                out_of_memory = out_of_memory or type(exc) is MemoryError
                outcomes.append(("unstable", type(exc).__name__))
            except Exception as exc:
                outcomes.append(("raise", type(exc).__name__))
    return reply, out_of_memory

# The worker's own helpers hold private references to what they use (default
# arguments, locals), so a program that patches builtins, modules or these
# globals cannot stop the state check below from seeing it.

def _read(fd, n, read=posix.read, len=len, join=b"".join):
    chunks = []
    while n:
        chunk = read(fd, n)
        if not chunk:
            raise SystemExit(0)  # the parent closed the pipe: done
        chunks.append(chunk)
        n -= len(chunk)
    return join(chunks)

def _write(fd, data, write=posix.write, memoryview=memoryview):
    view = memoryview(data)
    while view:
        view = view[write(fd, view):]

def _state(dict=dict, set=set, globals=globals, builtins_dict=builtins.__dict__,
           sys_dict=sys.__dict__, sys=sys, getsignal=_signal.getsignal, SIGALRM=_signal.SIGALRM,
           threads=_thread._count, getcwd=posix.getcwd, getrlimit=resource.getrlimit,
           RLIMIT_AS=resource.RLIMIT_AS, OSError=OSError):
    try:
        cwd = getcwd()
    except OSError:
        cwd = None
    return (dict(builtins_dict), dict(sys_dict), dict(globals()), set(sys_dict["modules"]),
            sys.getrecursionlimit(), sys.gettrace(), getsignal(SIGALRM), threads(), cwd,
            getrlimit(RLIMIT_AS))

def _same(now, fresh, len=len, zip=zip, missing=object()):
    # Namespaces compare by identity (a replaced builtin equal to the old one still counts).
    for live, saved in zip(now[:3], fresh[:3]):
        if len(live) != len(saved):
            return False
        for k, v in saved.items():
            if live.get(k, missing) is not v:
                return False
    return now[3:] == fresh[3:]

def _serve():
    memory = int(sys.argv[1])
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    sys.setrecursionlimit(400)
    _signal.signal(_signal.SIGALRM, _alarm)
    # The protocol keeps private copies of stdin/stdout; programs get /dev/null.
    requests, replies = posix.dup(0), posix.dup(1)
    null = posix.open("/dev/null", posix.O_RDWR)
    posix.dup2(null, 0)
    posix.dup2(null, 1)
    read, write, state, same, run = _read, _write, _state, _same, _run
    loads, dumps, from_bytes = marshal.loads, marshal.dumps, int.from_bytes
    fresh = state()
    while True:
        req = loads(read(requests, from_bytes(read(requests, 8), "big")))
        outcomes, out_of_memory = run(req)
        retire = out_of_memory or not same(state(), fresh)
        data = dumps({"outcomes": outcomes, "retire": retire})
        write(replies, data.__len__().to_bytes(8, "big") + data)
        if retire:
            return

_serve()
"""


class RunnerError(RuntimeError):
    """The test subprocess failed as a whole (crash or request timeout)."""


class Outcome(msgspec.Struct, frozen=True, array_like=True):
    status: str  # ok | repr | raise | unstable | skipped
    value: Any = None

    @property
    def stable(self) -> bool:
        return self.status in ("ok", "repr", "raise")

    def text(self) -> str:
        """What a question asks for: the returned literal, or `raises Name`."""
        if self.status == "ok":
            return repr(self.value)
        if self.status == "repr":
            return str(self.value)
        if self.status == "raise":
            return f"raises {self.value}"
        return f"<{self.status}: {self.value}>"


class _Worker:
    """One persistent test subprocess and the pipes to it."""

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        try:
            # cwd "/": programs must not depend on (or find deleted) the caller's directory.
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WORKER, str(MEMORY_BYTES)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd="/",
            )
        except BaseException:
            self._stderr.close()
            raise
        self.served = 0

    def ask(self, request: bytes, limit: float) -> dict[str, Any]:
        """The worker's reply to one request; RunnerError (worker killed) on timeout or crash."""
        deadline = time.monotonic() + limit
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(len(request).to_bytes(_HEADER, "big") + request)
            stdin.flush()
        except OSError as exc:  # BrokenPipeError: it died
            raise self._died() from exc
        size = int.from_bytes(self._read(_HEADER, deadline, limit), "big")
        if size > _MAX_REPLY:
            self.kill()
            raise RunnerError(f"test subprocess sent a malformed reply ({size} bytes announced)")
        body = self._read(size, deadline, limit)
        try:
            reply = marshal.loads(body)
            if not isinstance(reply, dict) or not isinstance(reply.get("outcomes"), list):
                raise ValueError("not a reply")
        except (EOFError, ValueError, TypeError) as exc:
            self.kill()
            raise RunnerError(f"test subprocess sent a malformed reply: {exc}") from exc
        self.served += 1
        return reply

    def _read(self, n: int, deadline: float, limit: float) -> bytes:
        stdout = self.proc.stdout
        assert stdout is not None
        fd, chunks = stdout.fileno(), []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                raise RunnerError(f"test subprocess exceeded {limit:.1f} s")
            chunk = os.read(fd, n)
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _died(self) -> RunnerError:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        self.kill()
        return RunnerError(f"test subprocess exited {code}: {' '.join(tail)}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Let the worker end on end-of-input; kill it if it does not."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass


# Idle workers; a thread takes one (or starts one) per request and puts it back after.
_idle: list[_Worker] = []
_idle_lock = threading.Lock()
_inherited: list[_Worker] = []  # a forked child's copies of its parent's workers: never used


def _take() -> _Worker:
    while True:
        with _idle_lock:
            worker = _idle.pop() if _idle else None
        if worker is None:
            return _Worker()
        if worker.alive():
            return worker
        worker.kill()


def _give_back(worker: _Worker, retire: bool) -> None:
    if not retire and worker.served < MAX_REQUESTS:
        with _idle_lock:
            if len(_idle) < MAX_IDLE:
                _idle.append(worker)
                return
    worker.close()


def close_workers() -> None:
    """End the idle test subprocesses (at exit; the next request starts a new one)."""
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for worker in workers:
        worker.close()


def _after_fork_in_child() -> None:
    global _idle_lock
    _idle_lock = threading.Lock()
    _inherited.extend(_idle)  # the parent's: neither talk to nor kill them
    _idle.clear()


atexit.register(close_workers)
os.register_at_fork(after_in_child=_after_fork_in_child)


def run_programs(
    programs: list[str], function: str, calls: list[list[Any]],
    *, lines: int = CALL_LINES, seconds: float = CALL_SECONDS, timeout: float | None = None,
) -> list[list[Outcome]]:
    """Outcomes of calling `function` of each program on each call's arguments.

    `lines` and `seconds` are each call's budgets; `timeout` (default
    REQUEST_SECONDS) bounds the whole request, after which the worker is killed
    and RunnerError raised.
    """
    request = marshal.dumps({
        "programs": programs,
        "function": function,
        "calls": [tuple(c) for c in calls],
        "lines": lines,
        "seconds": seconds,
    })
    worker = _take()
    try:
        reply = worker.ask(request, timeout if timeout is not None else REQUEST_SECONDS)
    except BaseException:
        worker.kill()  # also on KeyboardInterrupt: a half-read reply would desync the pipe
        raise
    _give_back(worker, reply["retire"])
    return [[Outcome(status, value) for status, value in outcomes]
            for outcomes in reply["outcomes"]]


def passes(outcome: Outcome, expected: Any) -> bool:
    """A test passes when the call returned exactly the expected literal (types included)."""
    return outcome.status == "ok" and repr(outcome.value) == repr(expected)
