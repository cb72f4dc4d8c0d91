"""Writing an export folder all at once, never over the user's files.

The files go into a fresh temporary folder beside the target, renamed into place only when
complete: a crash or a bad input never leaves half an export. A target that exists and is not
an empty folder is refused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path


class FolderError(Exception):
    """The target folder cannot be used; the message is one clear line."""


def check_target(out_dir: Path) -> None:
    """Refuse a target that is a file or a folder that holds anything."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise FolderError(f"--out {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise FolderError(f"--out {out_dir} is not empty; give a new or empty folder")


def write_folder(files: Mapping[str, bytes], out_dir: Path) -> None:
    """Create `out_dir` holding `files` (relative POSIX paths), atomically."""
    out_dir = Path(out_dir)
    check_target(out_dir)
    for rel in files:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"export file path {rel!r} escapes the folder")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(f"--out {out_dir}: cannot create its parent ({exc.strerror})") from None
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if out_dir.is_dir():
            out_dir.rmdir()  # empty (checked above); rename cannot replace a folder
        tmp.rename(out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FolderError(f"--out {out_dir} cannot be written ({exc.strerror})") from None
