"""The quality loop's one way to read a run's media: by content-addressed name.

The log names each file (`MediaStored`: sha256 and size); the bytes are in the run's blob
store (`store/blobs.py`). `known_media` is the only place the judge, the review sheet and
the report read them; a blob missing or altered raises the store's `BlobError`.
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
from store.blobs import BlobStore

CACHE_ENV = "BENCHAGENT_MEDIA_CACHE"


async def known_media(state: RunState, names: Iterable[str],
                      blobs: BlobStore) -> dict[str, bytes]:
    """The bytes of those of `names` the run holds (a name its log lacks is left out)."""
    found = {}
    for name in dict.fromkeys(names):
        stored = state.media.stored.get(name)
        if stored is not None:
            found[name] = await blobs.get(stored.sha256)
    return found


async def items_media(state: RunState, blobs: BlobStore) -> dict[str, bytes]:
    """The media of every item the run realized (what its report may show)."""
    return await known_media(state, [m for env in state.samples.realized.values()
                                     for m in env.payload.item.media], blobs)


def media_cache_dir() -> Path:
    """`$BENCHAGENT_MEDIA_CACHE`, else `~/.cache/benchagent/media-files`."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "benchagent" / "media-files"


async def media_files(state: RunState, names: Iterable[str], root: Path,
                      blobs: BlobStore) -> Path:
    """Write the media `names` under `root` (those not there yet) and return `root`."""
    missing = [name for name in names if not (root / name).is_file()]
    # content-addressed: a name already there is the same bytes
    for name, data in (await known_media(state, missing, blobs)).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)  # a concurrent writer writes the same bytes
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return root
