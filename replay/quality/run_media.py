"""The quality loop's one way to read a run's media: by content-addressed name.

`media_bytes` is the only place the judge, the review sheet and the report read media
bytes, so moving them out of the log (a blob store) changes this module alone.
`media_files` writes them under a directory for a judge that is sent images as files: the
directory is a cache keyed by content (`media/<sha256>.<ext>`), the same for every run and
every judging, so the request a judge is sent (and its recorded answer) stays the same.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from replay.projections import RunState

CACHE_ENV = "BENCHAGENT_MEDIA_CACHE"


def media_bytes(state: RunState, name: str) -> bytes:
    """The bytes of the run's media file `name`; `KeyError` if the log holds none."""
    return state.media.stored[name]


def known_media(state: RunState, names: Iterable[str]) -> dict[str, bytes]:
    """The bytes of those of `names` the run holds (a name it lacks is left out)."""
    found = {}
    for name in names:
        try:
            found[name] = media_bytes(state, name)
        except KeyError:
            continue
    return found


def media_cache_dir() -> Path:
    """`$BENCHAGENT_MEDIA_CACHE`, else `~/.cache/benchagent/media-files`."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "benchagent" / "media-files"


def media_files(state: RunState, names: Iterable[str], root: Path) -> Path:
    """Write the media `names` under `root` (those not there yet) and return `root`."""
    for name in names:
        path = root / name
        if path.is_file():
            continue  # content-addressed: the same name is the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(media_bytes(state, name))
            os.replace(tmp, path)  # a concurrent writer writes the same bytes
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return root
