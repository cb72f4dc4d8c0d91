"""`benchagent export`: the jsonl format, same log → same bytes, and bad input."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from export_runs import export  # noqa: E402
from synthetic_run import store_synthetic_media, synthetic_run  # noqa: E402

from benchagent.cli import main  # noqa: E402
from replay.exports import FORMATS  # noqa: E402
from store.sqlite_log import SQLiteEventLog  # noqa: E402


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_jsonl_is_the_published_benchmark_with_a_manifest(media_run) -> None:
    folder = media_run.dirs["jsonl"]
    published = files_under(media_run.published)
    got = files_under(folder)
    assert got["benchmark.jsonl"] == published["benchmark.jsonl"]
    media = {k: v for k, v in published.items() if k.startswith("media/")}
    assert any(k.endswith(".wav") for k in media) and any(k.endswith(".png") for k in media)
    assert {k: v for k, v in got.items() if k.startswith("media/")} == media
    manifest = json.loads(got["manifest.json"])
    assert manifest["files"] == {k: hashlib.sha256(v).hexdigest() for k, v in got.items()
                                 if k != "manifest.json"}
    # The export names the published folder's anchor: the log's head at publication.
    event = next(e for e in media_run.events if e.type == "BenchmarkPublished")
    assert manifest["anchor"] == json.loads(published["spec.json"])["anchor"]
    assert (manifest["anchor"]["head_hash"], manifest["anchor"]["head_seq"]) == (event.hash,
                                                                                event.seq)
    assert manifest["items"] == len(got["benchmark.jsonl"].splitlines())
    pub = next(e.payload for e in media_run.events if e.type == "BenchmarkPublished")
    assert manifest["content_hash"] == pub.content_hash
    assert {s["dataset_id"] for s in manifest["sources"]} == {
        "gen-causal_physics", "gen-speech_dialogue"}


def test_same_log_same_bytes_in_every_format(text_run, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert export(text_run.home, text_run.run_id, again, *FORMATS) == 0
    assert files_under(again) == files_under(text_run.out)


# ------------------------------------------------------------------ bad input


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with a published synthetic run `done` and an unpublished one `busy`."""
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run("done", samples=6, reject_every=3), expected_seq=0)
        await log.append(synthetic_run("busy", samples=3)[:-1], expected_seq=0)
        await store_synthetic_media(tmp_path, 6)
        await log.close()

    asyncio.run(fill())
    return tmp_path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_a_synthetic_run_exports(home: Path, tmp_path: Path, capsys) -> None:
    code, err = run_cli(capsys, "export", "done", "--format", "jsonl", "--out",
                        str(tmp_path / "out"), "--home", str(home))
    assert code == 0, err
    assert len((tmp_path / "out" / "benchmark.jsonl").read_text().splitlines()) == 4


@pytest.mark.parametrize("argv, message", [
    (["done", "--format", "parquet"], "unknown --format 'parquet': choose from hf, inspect, "
                                      "lm-eval, jsonl"),
    (["no-such-run", "--format", "hf"], "unknown run id: no-such-run"),
    (["busy", "--format", "hf"], "run busy has not published a benchmark yet"),
])
def test_bad_input_is_one_line_and_writes_nothing(home: Path, tmp_path: Path, capsys,
                                                  argv: list[str], message: str) -> None:
    out = tmp_path / "out"
    code, err = run_cli(capsys, "export", *argv, "--out", str(out), "--home", str(home))
    assert code == 2
    assert err.strip() == f"benchagent: error: {message}"
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_non_empty_out_is_refused_and_kept(home: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, err = run_cli(capsys, "export", "done", "--format", "hf", "--out", str(out),
                        "--home", str(home))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "is not empty" in err
    assert files_under(out) == {"mine.txt": b"keep me"}
    # An empty folder is fine.
    (out / "mine.txt").unlink()
    code, err = run_cli(capsys, "export", "done", "--format", "hf", "--out", str(out),
                        "--home", str(home))
    assert code == 0, err
    assert (out / "README.md").is_file()


def test_a_tampered_log_is_refused(home: Path, tmp_path: Path, capsys) -> None:
    conn = sqlite3.connect(home / "events.db")
    seq, data = conn.execute("SELECT seq, data FROM events WHERE run_id = 'done' AND "
                             "type = 'SampleRealized' ORDER BY seq LIMIT 1").fetchone()
    conn.execute("UPDATE events SET data = ? WHERE run_id = 'done' AND seq = ?",
                 (bytes(data).replace(b"Why did", b"How did"), seq))
    conn.commit()
    conn.close()
    out = tmp_path / "out"
    code, err = run_cli(capsys, "export", "done", "--format", "jsonl", "--out", str(out),
                        "--home", str(home))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"refusing to export a tampered log: run done: event seq {seq}" in err
    assert "modified" in err
    assert not out.exists()


def test_a_write_that_fails_midway_leaves_nothing(home: Path, tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    written = []
    real_write = Path.write_bytes

    def failing_write(self: Path, data: bytes) -> int:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "export", "done", "--format", "inspect", "--out", str(out),
                        "--home", str(home))
    assert code == 2 and "No space left on device" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
