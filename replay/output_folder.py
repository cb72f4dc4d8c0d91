"""Writing a folder without ever destroying what a user kept there.

`write_folder(files, out_dir, run_id)` (a run's benchmark folder: `build`,
`replay`) accepts as a target only a folder that does not exist, an empty
folder, or an earlier output of the same run (the anchor in its `spec.json`
names that run and it holds nothing the new output would not: every file is one
an output writes, media named by their sha256). `write_new_folder(files,
out_dir)` (`export`) accepts only a new or empty folder. Anything else is
`OutputRefused`, one line naming what is in the way.
The files are written into a fresh temporary folder beside the target and
renamed into place only when complete, so a crash or a full disk leaves the old
folder or the new one, never half of either, and never a deleted user file; a
write that fails is `FolderError`, one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

OUTPUT_FILES = frozenset({"benchmark.jsonl", "spec.json", "README.md", "provenance.jsonl"})
MEDIA_DIR = "media"
_MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.[A-Za-z0-9]{1,8}$")  # content-addressed


class FolderError(Exception):
    """The target folder cannot be used or written; the message is one clear line."""


class OutputRefused(FolderError):
    """The target folder holds something that is not this run's output; one clear line."""


def check_new_target(out_dir: Path) -> None:
    """`OutputRefused` unless `out_dir` is absent or an empty folder."""
    out_dir = Path(out_dir)
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise OutputRefused(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise OutputRefused(f"{out_dir} is not empty: give a new or empty folder (nothing was "
                            "written)")


def check_target(out_dir: Path, run_id: str, files: Collection[str] | None = None) -> None:
    """`OutputRefused` unless `out_dir` may be (re)written with run `run_id`'s output
    (`files`, when known: then an earlier output may hold nothing else)."""
    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        raise OutputRefused(f"{out_dir} is a symbolic link: give the folder it points to")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputRefused(f"{out_dir} is a file, not a folder")
    entries = sorted(out_dir.iterdir())
    if not entries:
        return
    owner = output_run_id(out_dir)
    if owner != run_id:
        whose = f"an output of run {owner}" if owner else "not a benchmark output"
        raise OutputRefused(f"{out_dir} is not empty and is {whose}: choose an empty or new "
                            "folder (nothing was written)")
    stray = _stray_entry(out_dir, entries, files)
    if stray is not None:
        raise OutputRefused(f"{out_dir} holds {stray}, which is not part of run {run_id}'s "
                            "output: move it or choose another folder (nothing was written)")


def output_run_id(folder: Path) -> str | None:
    """The run a benchmark folder was written from (its anchor, else its provenance), or None."""
    from replay.anchor import AnchorError, read_folder_anchor

    try:
        return read_folder_anchor(folder).run_id
    except AnchorError:
        pass
    try:
        lines = (Path(folder) / "provenance.jsonl").read_text().splitlines()
        runs = {json.loads(line)["run_id"] for line in lines if line.strip()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return runs.pop() if len(runs) == 1 else None


def _stray_entry(out_dir: Path, entries: list[Path],
                 files: Collection[str] | None) -> str | None:
    """The first entry the new output would not hold (relative path), or None."""
    for entry in entries:
        if entry.is_symlink():
            return entry.name
        if entry.name == MEDIA_DIR and entry.is_dir():
            for media in sorted(entry.iterdir()):
                rel = f"{MEDIA_DIR}/{media.name}"
                if media.is_symlink() or not media.is_file() or not _MEDIA_NAME.match(media.name) \
                        or (files is not None and rel not in files):
                    return rel
            continue
        if entry.name not in OUTPUT_FILES or not entry.is_file():
            return entry.name
    return None


def write_folder(files: Mapping[str, bytes], out_dir: Path, run_id: str) -> None:
    """Write run `run_id`'s output `files` (relative path → bytes) as `out_dir`, all at once;
    an earlier output of the same run is replaced (see the module doc)."""
    _write_atomically(files, Path(out_dir), lambda: check_target(out_dir, run_id, files.keys()))


def write_new_folder(files: Mapping[str, bytes], out_dir: Path) -> None:
    """Create `out_dir` (absent or empty) holding `files`, all at once."""
    _write_atomically(files, Path(out_dir), lambda: check_new_target(out_dir))


def _write_atomically(files: Mapping[str, bytes], out_dir: Path,
                      check: Callable[[], None]) -> None:
    check()
    for rel in files:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"output file {rel!r} would land outside the folder")
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out_dir.name}.tmp-"))
    except OSError as exc:
        raise FolderError(f"{out_dir} cannot be created ({exc.strerror})") from None
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; an output is an ordinary folder
        check()  # again: something may have appeared meanwhile
        _swap_in(tmp, out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FolderError(f"{out_dir} cannot be written ({exc.strerror}); nothing was "
                          "changed") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, out_dir: Path) -> None:
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()  # empty (checked): rename cannot replace a folder
    if not out_dir.exists():
        tmp.rename(out_dir)
        return
    old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
    old.rmdir()  # a unique free name for the folder being replaced
    out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except BaseException:
        with contextlib.suppress(OSError):
            old.rename(out_dir)  # put the previous output back
        raise
    shutil.rmtree(old, ignore_errors=True)
