"""What travels between the host and a sandboxed module, as msgspec Structs.

The host sends one JSON line per request on the sandbox's stdin; the worker answers one JSON
line per request on its stdout. Nothing the sandbox says is trusted beyond being data about
the module: the host decodes it strictly (these Structs, a size cap) and draws every verdict
itself.

    host → sandbox   LoadRequest   (once: module source, budgets, allow-list)
    sandbox → host   Reply         (id 0: the module loaded, or why not)
    host → sandbox   CallRequest   (any number: function name, JSON arguments)
    sandbox → host   Reply         (its value, or an error with its kind)
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

# Why a load or a call failed, closed. The first group is decided inside the sandbox, the
# second by the host (the sandbox could not answer).
ErrorKind = Literal[
    "syntax",            # the source does not compile
    "forbidden_import",  # an import outside the allow-list (static, or attempted at run time)
    "forbidden_name",    # a static check found an escape hatch (eval, __subclasses__, ...)
    "missing_function",  # the module does not define the function called
    "exception",         # the code raised; the message names the type and text
    "lines",             # the executed-line budget of the call ran out
    "cpu",               # the CPU-time budget of the call ran out
    "memory",            # the memory limit was hit (MemoryError)
    "disk",              # a file outgrew the disk budget
    "bad_value",         # the value returned cannot be carried as JSON
    "timeout",           # the wall-clock budget ran out: the host killed the sandbox
    "output",            # the reply was larger than the output budget: killed
    "killed",            # the sandbox died without answering (signal, crash)
    "protocol",          # the reply was not a well-formed answer to this request
]

# Kinds that mean "a budget ran out" rather than "the code is wrong".
BUDGET_KINDS: frozenset[str] = frozenset(
    {"lines", "cpu", "memory", "disk", "timeout", "output"})


class Budgets(msgspec.Struct, frozen=True, kw_only=True):
    """Limits of one sandboxed module. Per call: lines, CPU and wall seconds; per sandbox:
    memory (address space) and disk (the size of any one file and of the private directory)."""

    lines: int = 2_000_000  # executed lines of the module's own code, per call
    cpu_seconds: float = 5.0  # per call
    wall_seconds: float = 10.0  # per call, and for loading the module
    memory_bytes: int = 1 << 30
    disk_bytes: int = 64 << 20
    output_bytes: int = 8 << 20  # one reply, JSON-encoded


class SandboxError(msgspec.Struct, frozen=True, kw_only=True):
    kind: ErrorKind
    message: str


class LoadRequest(msgspec.Struct, frozen=True, kw_only=True, tag="load"):
    source: str
    filename: str  # what tracebacks and the line tracer call the module's code
    allowed: list[str]  # top-level module names the module may import
    budgets: Budgets


class CallRequest(msgspec.Struct, frozen=True, kw_only=True, tag="call"):
    id: int
    function: str
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    collect_files: bool = False  # empty the private directory before, return its files after


Request = LoadRequest | CallRequest


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to one request (id 0 answers the load)."""

    id: int
    ok: bool
    value: Any = None
    error: SandboxError | None = None
    lines: int = 0  # executed lines of the module's code during this request
    cpu_seconds: float = 0.0
    stdout: str = ""  # what the code printed, truncated
    files: dict[str, str] = {}  # relative path -> base64 bytes, when collect_files
    forbidden_imports: list[str] = []  # imports refused at run time, even if the code caught it


class CallResult(msgspec.Struct, frozen=True, kw_only=True):
    """One call as the host saw it: the sandbox's reply, or the host's own verdict."""

    function: str
    ok: bool
    value: Any = None
    error: SandboxError | None = None
    lines: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    stdout: str = ""
    files: dict[str, bytes] = {}
    forbidden_imports: list[str] = []

    @property
    def kind(self) -> str | None:
        return self.error.kind if self.error else None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""
