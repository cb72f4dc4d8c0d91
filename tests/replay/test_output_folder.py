"""No command destroys a user's files: `replay --out` and `build`'s run folder refuse a
non-empty folder that is not an earlier output of the same run, and write through a temp
folder renamed into place only when complete. Through the CLI, on a real SQLite log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchagent.cli import main
from store.sqlite_log import SQLiteEventLog
from tests.agents.build_helpers import build, read_events
from tests.replay.synthetic_run import store_synthetic_media, synthetic_run

RUN, OTHER = "run-out", "run-other"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run(RUN, samples=12, reject_every=4), expected_seq=0)
        await log.append(synthetic_run(OTHER, samples=6, reject_every=3), expected_seq=0)
        await store_synthetic_media(tmp_path, 12)
        await log.close()

    asyncio.run(fill())
    return tmp_path


def replay(capsys, home: Path, out: Path, run_id: str = RUN) -> tuple[int, str]:
    code = main(["replay", run_id, "--out", str(out), "--home", str(home)])
    return code, capsys.readouterr().err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_a_folder_with_an_unrelated_file_is_refused_and_kept(home: Path, tmp_path: Path,
                                                             capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work")
    code, err = replay(capsys, home, out)
    assert code == 2
    assert err.count("\n") == 1 and str(out) in err and "not a benchmark output" in err
    assert snapshot(out) == {"thesis.tex": b"months of work"}
    assert leftovers(tmp_path) == []


def test_new_empty_and_earlier_outputs_of_the_run_are_written(home: Path, tmp_path: Path,
                                                              capsys) -> None:
    fresh, empty = tmp_path / "a" / "b" / "new", tmp_path / "empty"
    empty.mkdir()
    for out in (fresh, empty):
        code, err = replay(capsys, home, out)
        assert code == 0, err
        assert (out / "benchmark.jsonl").is_file() and (out / "provenance.jsonl").is_file()
    first = snapshot(empty)
    (empty / "benchmark.jsonl").write_text("stale")  # an earlier, damaged output of the run
    code, err = replay(capsys, home, empty)
    assert code == 0, err
    assert snapshot(empty) == first
    assert leftovers(tmp_path) == [] and leftovers(fresh.parent) == []


def test_an_output_of_another_run_or_with_a_stray_file_is_refused(home: Path, tmp_path: Path,
                                                                  capsys) -> None:
    out = tmp_path / "out"
    assert replay(capsys, home, out, OTHER)[0] == 0
    before = snapshot(out)
    code, err = replay(capsys, home, out)
    assert code == 2 and f"an output of run {OTHER}" in err
    assert snapshot(out) == before

    assert replay(capsys, home, out)[0] != 0
    mine = tmp_path / "mine"
    assert replay(capsys, home, mine)[0] == 0
    (mine / "media" / "notes.txt").write_text("mine")
    code, err = replay(capsys, home, mine)
    assert code == 2 and "holds media/notes.txt" in err and err.count("\n") == 1
    assert (mine / "media" / "notes.txt").read_text() == "mine"


def test_a_file_or_a_link_as_out_is_refused(home: Path, tmp_path: Path, capsys) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    code, err = replay(capsys, home, file)
    assert code == 2 and "is a file, not a folder" in err and file.read_text() == "x"
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    code, err = replay(capsys, home, link)
    assert code == 2 and "symbolic link" in err and link.is_symlink()


def test_a_write_that_fails_midway_leaves_the_earlier_output_whole(
        home: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert replay(capsys, home, out)[0] == 0
    before = snapshot(out)
    real_write = Path.write_bytes
    written: list[Path] = []

    def full_disk(self: Path, data: bytes) -> int:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    code = main(["replay", RUN, "--out", str(out), "--home", str(home)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "No space left" in err
    assert written and all(out not in p.parents for p in written)  # only the temp folder
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_build_refuses_a_run_folder_holding_a_user_file_before_building(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    run_dir = home / "runs" / "run-test"
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("keep me")
    code, _, err = build(capsys, home, general_bench, size=4)
    assert code == 2 and "not a benchmark output" in err
    assert (run_dir / "notes.txt").read_text() == "keep me"
    assert not (home / "events.db").exists() or not read_events(home)
