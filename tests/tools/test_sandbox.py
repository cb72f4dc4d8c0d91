"""The sandbox: every escape attempt fails cleanly, is reported with its kind, and leaves the
host unharmed; a well-behaved module runs and answers JSON.

Attempts that the import check would stop first reach the OS layer through a deliberate
escape (`random._os`, the import machinery's own `__import__`), so what is tested is the
jail itself, not the policy in front of it.
"""

from __future__ import annotations

import os
import select
import socket
import textwrap
from pathlib import Path

import pytest

from tools.sandbox.allowlist import static_violations
from tools.sandbox.session import Sandbox, run_module
from tools.sandbox.wire import Budgets

REPO = Path(__file__).resolve().parents[2]
FAST = Budgets(lines=200_000, cpu_seconds=2.0, wall_seconds=8.0, memory_bytes=1 << 30)

# Reaches the real `os` and the real import function past the run-time import check.
ESCAPE = textwrap.dedent("""
    import random
    os = random._os
    real_import = os.sys.modules["_frozen_importlib"].__import__
""")


def box(source: str, budgets: Budgets = FAST, **kw: object) -> Sandbox:
    sandbox = Sandbox(textwrap.dedent(source), budgets=budgets, **kw)  # type: ignore[arg-type]
    loaded = sandbox.start()
    assert loaded.ok, loaded.error
    return sandbox


def test_a_normal_module_runs_and_answers_json() -> None:
    source = """
        import math, random
        from fractions import Fraction
        from PIL import Image

        def sample(seed, params):
            rng = random.Random(seed)
            n = rng.randint(params["low"], params["high"])
            return {"n": n, "root": math.isqrt(n), "half": str(Fraction(n, 2)),
                    "pair": (1, 2)}

        def draw(colour):
            Image.new("RGB", (3, 2), tuple(colour)).save("pic.png")
            print("drawn")
            return "pic.png"
    """
    with box(source) as sb:
        first = sb.call("sample", 5, {"low": 10, "high": 99})
        again = sb.call("sample", 5, {"low": 10, "high": 99})
        drawn = sb.call("draw", [255, 0, 0], collect_files=True)
    assert first.ok and first.error is None
    n = first.value["n"]
    assert 10 <= n <= 99 and first.value == {"n": n, "root": int(n ** 0.5), "half":
                                            first.value["half"], "pair": [1, 2]}
    assert again.value == first.value and first.lines > 0
    assert drawn.ok and drawn.value == "pic.png" and drawn.stdout == "drawn\n"
    png = drawn.files["pic.png"]
    assert png.startswith(b"\x89PNG") and list(drawn.files) == ["pic.png"]


def test_run_module_is_the_one_shot_form() -> None:
    loaded, results = run_module("def f(x):\n    return x * 2\n", [("f", [21]), ("g", [])],
                                 budgets=FAST)
    assert loaded.ok
    assert results[0].value == 42
    assert results[1].kind == "missing_function" and "'g'" in results[1].message


def test_a_module_that_does_not_compile_or_raises_on_load() -> None:
    bad, _ = run_module("def f(:\n", [], budgets=FAST)
    assert bad.kind == "syntax"
    raising, calls = run_module("x = 1\nraise ValueError('no')\n", [("f", [])], budgets=FAST)
    assert raising.kind == "exception" and "ValueError: no (line 2)" in raising.message
    assert calls[0].kind == "exception" and "did not load" in calls[0].message


def test_writing_outside_its_directory_fails_and_nothing_appears(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    source = """
        def write(path):
            with open(path, "w") as f:
                f.write("pwned")
            return path
    """
    with box(source) as sb:
        inside = sb.call("write", "/work/ok.txt")
        outcomes = [sb.call("write", str(path)) for path in (
            target, "/usr/lib/escaped.txt", "/tmp/escaped.txt", "/escaped.txt",
            str(REPO / "escaped.txt"))]
    assert inside.ok
    for result in outcomes:
        assert result.kind == "exception", result
        assert any(e in result.message for e in (
            "FileNotFoundError", "PermissionError", "Read-only file system")), result
    assert not target.exists() and not (REPO / "escaped.txt").exists()
    assert not Path("/tmp/escaped.txt").exists()


def test_secrets_of_the_host_are_not_reachable(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY----- sekrit-key")
    project = tmp_path / "project"
    (project / ".benchagent").mkdir(parents=True)
    events = project / ".benchagent" / "events.db"
    events.write_bytes(b"SQLite format 3\x00 sekrit-events")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BENCHAGENT_TEST_SECRET", "sekrit-env")
    source = ESCAPE + textwrap.dedent("""
        def read(path):
            with open(os.path.expanduser(path), "rb") as f:
                return f.read().decode("latin-1")

        def environment():
            return dict(os.environ)

        def listing(path):
            return sorted(os.listdir(path))
    """)
    with box(source) as sb:
        reads = [sb.call("read", p) for p in (
            "~/.ssh/id_ed25519", str(key), str(events), "/root/.ssh/id_rsa",
            str(REPO / "pyproject.toml"))]
        env = sb.call("environment")
        root = sb.call("listing", "/")
    for result in reads:
        assert result.kind == "exception" and "FileNotFoundError" in result.message
        assert "sekrit" not in (result.message + result.stdout)
    assert env.ok and "BENCHAGENT_TEST_SECRET" not in env.value
    assert env.value["HOME"] == "/work" and str(home) not in str(env.value)
    assert root.ok and "home" not in root.value and "etc" not in root.value


def test_no_network_and_no_connection_reaches_a_host_listener() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        source = ESCAPE + textwrap.dedent("""
            def connect(port):
                socket = real_import("socket")
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"hello")
                return "connected"
        """)
        with box(source) as sb:
            result = sb.call("connect", port)
        assert result.kind == "exception", result
        assert "ConnectionRefusedError" in result.message
        # The attempt finished inside the call: had it reached us, it would be queued now.
        readable, _, _ = select.select([listener], [], [], 0)
        assert readable == []
    plain, _ = run_module("import socket\n", [], budgets=FAST)
    assert plain.kind == "forbidden_import" and "'socket'" in plain.message


def test_starting_a_process_fails() -> None:
    source = ESCAPE + textwrap.dedent("""
        def fork():
            return os.fork()

        def run():
            subprocess = real_import("subprocess")
            return subprocess.run([os.sys.executable, "-c", "pass"]).returncode

        def system():
            status = os.system("echo ran > /work/ran")
            return {"status": status, "ran": os.path.exists("/work/ran")}
    """)
    with box(source) as sb:
        fork, run, system = sb.call("fork"), sb.call("run"), sb.call("system")
    assert fork.kind == "exception" and "BlockingIOError" in fork.message
    assert run.kind == "exception" and "BlockingIOError" in run.message
    # glibc's system() reports a shell it could not start as exit status 127.
    assert system.ok and system.value == {"status": 127 << 8, "ran": False}


def test_a_fork_bomb_gets_no_process() -> None:
    source = ESCAPE + textwrap.dedent("""
        def bomb():
            forks = 0
            try:
                while True:
                    os.fork()
                    forks += 1
            except OSError as exc:
                return {"forks": forks, "error": type(exc).__name__}

        def bomb_raw():
            while True:
                os.fork()
    """)
    with box(source) as sb:
        counted, raw = sb.call("bomb"), sb.call("bomb_raw")
        alive = sb.call("bomb")
    assert counted.value == {"forks": 0, "error": "BlockingIOError"}
    assert raw.kind == "exception" and "BlockingIOError" in raw.message
    assert alive.ok  # the sandbox itself is unaffected


def test_an_endless_loop_is_stopped_by_lines_cpu_or_wall_clock() -> None:
    source = """
        def spin():
            n = 0
            while True:
                n += 1

        def spin_in_c():
            return sum(range(10 ** 15))
    """
    with box(source) as sb:
        lines = sb.call("spin")
    assert lines.kind == "lines" and lines.lines == FAST.lines + 1
    assert "line 5" in lines.message or "line 4" in lines.message
    many_lines = Budgets(lines=10 ** 12, cpu_seconds=1.0, wall_seconds=6.0)
    with box(source, many_lines) as sb:
        cpu = sb.call("spin")
    assert cpu.kind == "cpu", cpu
    assert 1.0 <= cpu.cpu_seconds < 3.0
    no_signals = Budgets(lines=10 ** 12, cpu_seconds=1.0, wall_seconds=2.0)
    with box(source, no_signals) as sb:
        wall = sb.call("spin_in_c")
        assert not sb.alive
        after = sb.call("spin")
    assert wall.kind == "timeout" and "killed" in wall.message
    assert 2.0 <= wall.wall_seconds < 6.0
    assert after.kind == "timeout" and "dead" in after.message


def test_a_10_gb_allocation_hits_the_memory_limit() -> None:
    source = """
        def grab():
            block = bytearray(10 * 10 ** 9)
            return len(block)

        def small():
            return len(bytearray(10 ** 6))
    """
    with box(source) as sb:
        big, small = sb.call("grab"), sb.call("small")
    assert big.kind == "memory", big
    assert small.ok and small.value == 10 ** 6


def test_disk_and_output_budgets() -> None:
    budgets = Budgets(lines=100_000, disk_bytes=1 << 20, output_bytes=10_000)
    source = """
        def fill():
            with open("big.bin", "wb") as f:
                for _ in range(4):
                    f.write(b"x" * (1 << 19))
            return "written"

        def shout():
            return "x" * 20_000
    """
    with box(source, budgets) as sb:
        disk, output = sb.call("fill"), sb.call("shout")
    assert disk.kind == "disk", disk
    assert output.kind == "output" and "10000" in output.message


def test_a_sandbox_killed_by_a_signal_is_reported() -> None:
    source = ESCAPE + "def die():\n    os.kill(os.getpid(), 9)\n"
    with box(source) as sb:
        result = sb.call("die")
    assert result.kind == "killed" and "SIGKILL" in result.message


def test_imports_outside_the_allow_list_are_refused_statically_and_at_run_time() -> None:
    source = textwrap.dedent("""
        import json
        import os
        from subprocess import run
        import importlib
        from . import sibling
        x = __import__("socket")
        y = random._os
        z = ().__class__.__base__.__subclasses__()
        eval("1")
    """)
    found = [(v.kind, v.line, v.detail) for v in static_violations(source)]
    assert ("forbidden_import", 3, "import os") in found
    assert ("forbidden_import", 4, "from subprocess import ...") in found
    assert ("forbidden_import", 5, "import importlib") in found
    assert ("forbidden_import", 6, "relative import") in found
    assert ("forbidden_name", 7, "use of __import__") in found
    assert ("forbidden_name", 9, "attribute .__subclasses__") in found
    assert ("forbidden_name", 10, "use of eval") in found
    assert not [f for f in found if f[1] == 2]  # json is allowed
    assert static_violations("import random\nrandom._os\n")[0].detail == (
        "private attribute random._os of a module")
    assert static_violations("def f(:\n")[0].kind == "syntax"

    dynamic = """
        def dunder():
            return __import__("os").getcwd()

        def importlib_way():
            import importlib
            return importlib.import_module("os").getcwd()

        def swallowed():
            try:
                import subprocess
            except BaseException:
                return "caught"

        def allowed():
            import json, zoneinfo
            return json.dumps(str(zoneinfo.ZoneInfo("Europe/Paris")))
    """
    with box(dynamic) as sb:
        dunder, via_importlib = sb.call("dunder"), sb.call("importlib_way")
        swallowed, allowed = sb.call("swallowed"), sb.call("allowed")
    assert dunder.kind == "forbidden_import" and "'os'" in dunder.message
    assert via_importlib.kind == "forbidden_import" and "'importlib'" in (
        via_importlib.message)
    # Catching the refusal does not hide it.
    assert swallowed.kind == "forbidden_import" and swallowed.forbidden_imports == ["subprocess"]
    assert allowed.ok and allowed.value == '"Europe/Paris"'


def test_code_runs_as_an_unprivileged_user_without_capabilities() -> None:
    source = ESCAPE + textwrap.dedent("""
        def who():
            try:
                os.setuid(0)
                became_root = True
            except PermissionError:
                became_root = False
            return {"uid": os.getuid(), "euid": os.geteuid(), "root": became_root,
                    "cwd": os.getcwd()}
    """)
    with box(source) as sb:
        who = sb.call("who")
    assert who.ok and who.value["root"] is False and who.value["cwd"] == "/work"
    assert who.value["uid"] != 0 and who.value["euid"] != 0
    if os.geteuid() == 0:
        assert who.value["uid"] == 65534
