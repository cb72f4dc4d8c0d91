"""Every command that projects a run checks its hash chain first: with one byte of one event
changed in the SQLite file on disk, replay, audit, log and eval refuse in one line naming the
event, exit non-zero and write nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchagent.cli import main
from store.sqlite_log import SQLiteEventLog
from tests.replay.synthetic_run import store_synthetic_media, synthetic_run

RUN = "run-tampered"
MARK = b"Why did event 17 happen?"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run(RUN, samples=30, reject_every=4), expected_seq=0)
        await store_synthetic_media(tmp_path, 30)
        await log.close()

    asyncio.run(fill())
    return tmp_path


def flip_one_byte_on_disk(home: Path) -> None:
    """Change one byte of one stored event in the database file itself (not through SQL)."""
    for name in ("events.db", "events.db-wal"):
        path = home / name
        if not path.exists():
            continue
        raw = bytearray(path.read_bytes())
        at = raw.find(MARK)
        if at >= 0:
            raw[at] = ord("w")  # "Why" → "why"
            path.write_bytes(bytes(raw))
            return
    raise AssertionError("the event's bytes were not found in the database files")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_intact_log_projects(home: Path, tmp_path: Path, capsys) -> None:
    code, _, err = cli(capsys, "replay", RUN, "--out", str(tmp_path / "out"), "--home", str(home))
    assert code == 0, err
    assert (tmp_path / "out" / "benchmark.jsonl").is_file()


@pytest.mark.parametrize("argv", [
    ["replay", "--out", "OUT"],
    ["replay", "--out", "OUT", "--json"],
    ["audit"],
    ["audit", "--sample", "cause-d1-00017-a1"],
    ["log", "--json"],
    ["eval", "--model", "scripted:schema"],
])
def test_a_projection_of_a_tampered_log_is_refused(home: Path, tmp_path: Path, capsys,
                                                   argv: list[str]) -> None:
    flip_one_byte_on_disk(home)
    code, out, _ = cli(capsys, "verify", RUN, "--home", str(home), "--json")
    problem = json.loads(out)["problem"]
    assert code == 1 and problem["kind"] == "modified"
    before = sorted(p.name for p in tmp_path.iterdir())

    out_dir = tmp_path / "out"
    args = [a.replace("OUT", str(out_dir)) for a in argv]
    code, stdout, err = cli(capsys, args[0], RUN, *args[1:], "--home", str(home))
    assert code != 0 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"event seq {problem['seq']} ({problem['event_id']}) modified" in lines[0]
    assert "tampered" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no temp dir


def test_build_resume_of_a_tampered_run_is_refused(home: Path, capsys) -> None:
    flip_one_byte_on_disk(home)
    code, _, err = cli(capsys, "build", "--resume", RUN, "--home", str(home))
    assert code != 0 and "modified" in err and "tampered" in err
    assert len(err.strip().splitlines()) == 1
