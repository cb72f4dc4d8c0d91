"""The program that runs inside the sandbox: it loads one module and answers calls to it.

Standard library only, and never imported by the host: `jail` binds this file read-only
into the sandbox, where the project itself is not reachable. It speaks the protocol of
`wire` (one JSON line per request and per reply) on the stdin/stdout it was started with,
which it keeps to itself: the module's code sees /dev/null there, and what it prints is
captured and returned (truncated) with the reply.

Before any of the module's code runs it sets the per-sandbox limits (no new processes,
address space, file size, open files, a CPU ceiling) and installs the run-time import
check. Each call then runs under a tracer that counts the executed lines of the module's own
code and a CPU budget (SIGXCPU at the call's soft limit). The module can tamper with all of
this from inside — that only changes what it reports about itself; the host enforces wall
time and reads every reply as untrusted data, and the kernel enforces the rest.
"""

import base64
import builtins
import errno
import json
import os
import resource
import shutil
import signal
import stat
import sys
import time
import traceback
import types

STDOUT_CHARS = 4000  # of captured prints returned with each reply
OPEN_FILES = 64
CPU_CEILING = 3600  # seconds of CPU for the whole sandbox, whatever the calls ask
WORKDIR = "/work"
# Bound before the module runs: a module that replaces json.dumps changes nothing here.
_dumps = json.dumps
_loads = json.loads


# Modules an allowed module's C code imports lazily, in the middle of the generated code's
# call (no Python frame of its own between them): `datetime.strptime` imports `_strptime`,
# `date.strftime` imports `time`. Allowed when the module that needs it is (the static check
# still refuses the generated code's own `import time`).
IMPLICIT_IMPORTS = {"_strptime": "datetime", "time": "datetime"}


class _Budget(BaseException):
    """A budget ran out. BaseException, so `except Exception` in the module does not eat it."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class ForbiddenImport(BaseException):
    """An import outside the allow-list, from the module's own code."""


class _Captured:
    """sys.stdout / sys.stderr for the module: keeps the first STDOUT_CHARS characters."""

    def __init__(self):
        self.parts = []
        self.size = 0

    def write(self, text):
        text = str(text)
        if self.size < STDOUT_CHARS:
            self.parts.append(text[: STDOUT_CHARS - self.size])
            self.size += len(self.parts[-1])
        return len(text)

    def flush(self):
        pass

    def take(self):
        out = "".join(self.parts)
        self.parts, self.size = [], 0
        return out


class Worker:
    def __init__(self, proto_in, proto_out):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.filename = "<generator>"
        self.allowed = frozenset()
        self.budgets = {}
        self.module = None
        self.captured = _Captured()
        self.forbidden = []
        self.lines = 0
        self.line_limit = 0
        self.cpu_deadline = 0.0
        self.exceeded = None  # (kind, message) of a budget that ran out during this request
        self.in_call = False

    # -- limits and guards -----------------------------------------------------------------

    def set_limits(self):
        b = self.budgets
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (b["disk_bytes"], b["disk_bytes"]))
        resource.setrlimit(resource.RLIMIT_AS, (b["memory_bytes"], b["memory_bytes"]))
        used = int(time.process_time()) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (used + CPU_CEILING, used + CPU_CEILING))
        signal.signal(signal.SIGXCPU, self.on_cpu_signal)

    def on_cpu_signal(self, signum, frame):
        if self.in_call:
            self.exceeded = ("cpu", f"CPU budget of {self.budgets['cpu_seconds']} s ran out")
            raise _Budget(*self.exceeded)

    def guarded_import(self, name, globals=None, locals=None, fromlist=(), level=0):
        caller = sys._getframe(1)
        if caller.f_code.co_filename == self.filename:
            top = name.split(".", 1)[0]
            if IMPLICIT_IMPORTS.get(name) in self.allowed and not level:
                pass  # an allowed module's C code importing its own helper
            elif level or top not in self.allowed:
                shown = ("." * level) + name
                self.forbidden.append(shown)
                raise ForbiddenImport(f"import of {shown!r} is not allowed (allowed: "
                                      f"{', '.join(sorted(self.allowed))})")
        return self.real_import(name, globals, locals, fromlist, level)

    def trace_global(self, frame, event, arg):
        if frame.f_code.co_filename == self.filename:
            return self.trace_local
        return None

    def trace_local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
            if self.lines > self.line_limit:
                self.exceeded = ("lines", f"executed-line budget of {self.line_limit} ran out "
                                 f"(line {frame.f_lineno})")
                raise _Budget(*self.exceeded)
            if not self.lines & 0xFFF and time.process_time() > self.cpu_deadline:
                self.exceeded = ("cpu", f"CPU budget of {self.budgets['cpu_seconds']} s ran out "
                                 f"(line {frame.f_lineno})")
                raise _Budget(*self.exceeded)
        return self.trace_local

    # -- running the module's code ---------------------------------------------------------

    def guarded(self, run):
        """run() under the budgets; (ok, value, error)."""
        self.lines, self.exceeded, self.forbidden = 0, None, []
        self.line_limit = self.budgets["lines"]
        start = time.process_time()
        self.cpu_deadline = start + self.budgets["cpu_seconds"]
        soft = int(start + self.budgets["cpu_seconds"]) + 1
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))
        ok, value, error = False, None, None
        self.in_call = True
        sys.settrace(self.trace_global)
        try:
            value, ok = run(), True
        except _Budget as exc:
            error = {"kind": exc.kind, "message": str(exc)}
        except ForbiddenImport as exc:
            error = {"kind": "forbidden_import", "message": str(exc)}
        except MemoryError:
            error = {"kind": "memory", "message": "memory limit of "
                     f"{self.budgets['memory_bytes']} bytes reached (MemoryError)"}
        except OSError as exc:
            kind = "disk" if exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT) else (
                "exception")
            error = {"kind": kind, "message": self.describe(exc)}
        except BaseException as exc:
            error = {"kind": "exception", "message": self.describe(exc)}
        finally:
            sys.settrace(None)
            self.in_call = False
        # A budget that ran out counts even if the module caught the exception.
        if self.exceeded is not None:
            ok, value = False, None
            error = {"kind": self.exceeded[0], "message": self.exceeded[1]}
        elif self.forbidden and error is None:
            ok, value = False, None
            error = {"kind": "forbidden_import",
                     "message": f"import of {self.forbidden[0]!r} is not allowed (the module "
                                "caught the refusal)"}
        return ok, value, error, time.process_time() - start

    def describe(self, exc):
        """'Type: message (line N)', N the innermost line of the module's own code — not
        counting the template's TODO(), whose caller is the line left unwritten."""
        line = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == self.filename and frame.f_code.co_name != "TODO":
                line = lineno
        text = f"{type(exc).__name__}: {exc}"
        return f"{text} (line {line})" if line is not None else text

    def load(self, request):
        self.filename = request["filename"]
        self.allowed = frozenset(request["allowed"])
        self.budgets = request["budgets"]
        self.set_limits()
        try:
            code = compile(request["source"], self.filename, "exec")
        except (SyntaxError, ValueError) as exc:
            return self.reply(0, False, None, {"kind": "syntax", "message": str(exc)}, 0.0)
        module = types.ModuleType("generated")
        module.__file__ = self.filename
        sys.modules["generated"] = module  # dataclasses look the module up there
        self.real_import = builtins.__import__
        builtins.__import__ = self.guarded_import
        ok, _, error, cpu = self.guarded(lambda: exec(code, module.__dict__))
        self.module = module
        return self.reply(0, ok, None, error, cpu)

    def call(self, request):
        rid = request["id"]
        self.lines, self.forbidden = 0, []
        fn = getattr(self.module, request["function"], None) if self.module else None
        if not callable(fn):
            return self.reply(rid, False, None, {
                "kind": "missing_function",
                "message": f"the module defines no function {request['function']!r}"}, 0.0)
        if request.get("collect_files"):
            self.clear_workdir()
        args, kwargs = request.get("args", []), request.get("kwargs", {})
        ok, value, error, cpu = self.guarded(lambda: fn(*args, **kwargs))
        files = {}
        if ok and request.get("collect_files"):
            files, error = self.collect_files()
            ok = error is None
        return self.reply(rid, ok, value if ok else None, error, cpu, files)

    # -- the private directory -------------------------------------------------------------

    def clear_workdir(self):
        for name in os.listdir(WORKDIR):
            path = os.path.join(WORKDIR, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    def collect_files(self):
        files, total = {}, 0
        for root, dirs, names in os.walk(WORKDIR):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(root, name)
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue  # links and devices are never returned
                with open(path, "rb") as f:
                    data = f.read(self.budgets["disk_bytes"] + 1)
                total += len(data)
                if total > self.budgets["disk_bytes"]:
                    return {}, {"kind": "disk", "message": "files written exceed the disk "
                                f"budget of {self.budgets['disk_bytes']} bytes"}
                files[os.path.relpath(path, WORKDIR)] = base64.b64encode(data).decode("ascii")
        return files, None

    # -- the protocol ----------------------------------------------------------------------

    def reply(self, rid, ok, value, error, cpu, files=None):
        message = {"id": rid, "ok": ok, "value": value, "error": error, "lines": self.lines,
                   "cpu_seconds": round(cpu, 6), "stdout": self.captured.take(),
                   "files": files or {}, "forbidden_imports": list(self.forbidden)}
        try:
            line = _dumps(message, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as exc:
            message.update(ok=False, value=None, files={}, error={
                "kind": "bad_value", "message": f"the value cannot be carried as JSON: {exc}"})
            line = _dumps(message, allow_nan=False, separators=(",", ":"))
        if self.budgets and len(line) > self.budgets["output_bytes"]:
            message.update(ok=False, value=None, files={}, error={
                "kind": "output", "message": f"the reply ({len(line)} bytes) is larger than the "
                f"output budget of {self.budgets['output_bytes']} bytes"})
            line = _dumps(message, separators=(",", ":"))
        self.proto_out.write(line.encode("utf-8") + b"\n")
        self.proto_out.flush()

    def serve(self):
        sys.stdout = sys.stderr = self.captured
        while True:
            raw = self.proto_in.readline()
            if not raw:
                return
            request = _loads(raw)
            if request.get("type") == "load" and self.module is None:
                self.load(request)
            elif request.get("type") == "call":
                self.call(request)
            else:
                self.reply(request.get("id", -1), False, None,
                           {"kind": "protocol", "message": "unexpected request"}, 0.0)


def main():
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.stderr.write("sandbox worker: refusing to run as root\n")
        return 2
    # The protocol keeps private copies of stdin/stdout; the module's code gets /dev/null.
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.path[:] = [p for p in sys.path if p] + sys.argv[1:]  # the allowed packages' directory
    os.chdir(WORKDIR)
    Worker(proto_in, proto_out).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
