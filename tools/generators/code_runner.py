"""Run several versions of a function on several calls, in ONE isolated subprocess.

The child is `python -I -S` (no site, no user paths: fast start-up, nothing
imported but what the runner needs) reading a `marshal` request on stdin and
writing a `marshal` reply on stdout — marshal is built in, so the child
imports no json/re.

Runaway mutants (infinite loops, integers or lists that keep growing) are
stopped by a budget of executed lines and of local value sizes, enforced with
`sys.settrace`: unlike a wall-clock limit it gives the same
verdict on a busy machine, so sampling stays deterministic. A wall-clock alarm
per call and a timeout on the whole child are only backstops. A call that
exceeds a budget or exhausts memory marks its program *unstable* and the rest
of its calls are skipped.

Outcomes per call: ("ok", value) — value as marshal can carry it, else its
repr under "repr" —, ("raise", exception type name), ("unstable", reason) or
("skipped", None).
"""

from __future__ import annotations

import marshal
import subprocess
import sys
from typing import Any

import msgspec

CALL_LINES = 2_000  # executed lines per call; catalogue functions need well under 100
CALL_SECONDS = 1.0  # wall-clock backstop per call
MEMORY_BYTES = 512 * 1024 * 1024

_CHILD = r"""
import _signal, builtins, marshal, resource, sys  # _signal: signal.py would pull in enum

class _Budget(BaseException):
    pass

def _alarm(signum, frame):
    raise _Budget()

_signal.signal(_signal.SIGALRM, _alarm)
req = marshal.loads(sys.stdin.buffer.read())
try:
    resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
except (ValueError, OSError):
    pass
sys.setrecursionlimit(400)
_limit = req["lines"]
_count = 0

def _tracer(frame, event, arg):
    global _count
    if event == "line":
        _count += 1
        if _count > _limit:
            raise _Budget()
        # Runaway growth (a * b in a loop) would make one line take seconds.
        for v in frame.f_locals.values():
            if (type(v) is int and v.bit_length() > 4096) or (
                    type(v) in (list, str) and len(v) > 100000):
                raise _Budget()
    return _tracer

reply = []
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
            _count = 0
            _signal.setitimer(_signal.ITIMER_REAL, req["seconds"])
            sys.settrace(_tracer)
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
            outcomes.append(("unstable", type(exc).__name__))
        except Exception as exc:
            outcomes.append(("raise", type(exc).__name__))
sys.stdout.buffer.write(marshal.dumps(reply))
"""


class RunnerError(RuntimeError):
    """The test subprocess failed as a whole (crash or overall timeout)."""


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


def run_programs(
    programs: list[str], function: str, calls: list[list[Any]],
    *, lines: int = CALL_LINES, seconds: float = CALL_SECONDS, timeout: float | None = None,
) -> list[list[Outcome]]:
    """Outcomes of calling `function` of each program on each call's arguments."""
    request = marshal.dumps({
        "programs": programs,
        "function": function,
        "calls": [tuple(c) for c in calls],
        "lines": lines,
        "seconds": seconds,
        "memory": MEMORY_BYTES,
    })
    limit = timeout if timeout is not None else 30.0
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHILD],
            input=request, capture_output=True, timeout=limit, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RunnerError(f"test subprocess exceeded {limit:.1f} s") from exc
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise RunnerError(f"test subprocess exited {done.returncode}: {' '.join(tail)}")
    reply = marshal.loads(done.stdout)
    return [[Outcome(status, value) for status, value in outcomes] for outcomes in reply]


def passes(outcome: Outcome, expected: Any) -> bool:
    """A test passes when the call returned exactly the expected literal (types included)."""
    return outcome.status == "ok" and repr(outcome.value) == repr(expected)
