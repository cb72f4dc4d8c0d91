"""Running an item's planned pure-tool calls, and produced media as `MediaStored` events.

Tools run in a scratch workspace where the dataset's folder is mounted read-only as
`src` (`media_fence`): a planned call can read the item's media, never write there.
A realization's events name each media file by sha256 and size; its bytes travel
beside the batch (`Realization.media`) to the blob store, put before the batch is
emitted.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Container
from pathlib import Path
from typing import Any

import msgspec

from agents.base import AgentContext, Batch
from agents.keys import derive_seed
from store.events import Envelope, MediaStored, Payload, ToolApplied

MediaCause = Envelope[Payload]


class Realization(msgspec.Struct, kw_only=True):
    """The events that realize a slot, and the bytes of the media they name (by sha256)."""

    batch: Batch
    media: dict[str, bytes] = {}

    def add_media(self, data: bytes, ext: str) -> MediaStored:
        """Name `data` as a content-addressed media file of the batch; its `MediaStored`."""
        digest = hashlib.sha256(data).hexdigest()
        stored = MediaStored(sha256=digest, name=f"media/{digest}{ext}", size=len(data))
        self.media[digest] = data
        self.batch.append((stored, stored.name))
        return stored

    async def emit(self, ctx: AgentContext, cause: MediaCause, known: Container[str]) -> None:
        """Put the media bytes in the blob store, THEN append the batch (media whose name the
        log already holds are neither stored nor emitted again)."""
        batch = [(e, k) for e, k in self.batch
                 if not (isinstance(e, MediaStored) and e.name in known)]
        for payload, _ in batch:
            if isinstance(payload, MediaStored):
                await ctx.blobs.put(self.media[payload.sha256])
        await ctx.emit_many(batch, cause=cause)


@functools.cache
def media_fence(source_file: Path | None) -> Path:
    """The folder a dataset's media may come from: its file's parent's parent, resolved."""
    if source_file is None:
        return Path("/")
    return source_file.parent.parent.resolve()


def run_tools(calls: list[dict[str, Any]], sid: str, fence: Path,
              run_seed: int) -> tuple[list[tuple[str, bytes]], Batch]:
    """Run planned pure-tool calls in a scratch workspace (sources mounted read-only as `src`).

    Returns the files produced (extension, bytes) and one `ToolApplied` per call;
    a call that is wrong or fails is recorded with its error and skipped.
    """
    if not calls:
        return [], []
    from tools.registry import ToolArgumentError, ToolExecutionError, default_registry
    from tools.workspace import Workspace

    produced: list[tuple[str, bytes]] = []
    events: Batch = []
    with tempfile.TemporaryDirectory(prefix="benchagent-tools-") as tmp:
        ws = Workspace(tmp, sources={"src": fence})
        for n, call in enumerate(calls):
            name, args = call["name"], call["arguments"]
            seed = derive_seed(run_seed, "tool", sid, n)
            key = f"{sid}:tool:{n}"
            try:
                result = default_registry.run(name, args, ws, seed=seed)
            except (ToolArgumentError, ToolExecutionError) as exc:
                events.append((ToolApplied(sample_id=sid, tool=name, version="?", arguments=args,
                                           error=str(exc)), key))
                continue
            events.append((ToolApplied(sample_id=sid, tool=result.tool, version=result.version,
                                       arguments=result.arguments, outputs=result.outputs()), key))
            for f in result.files.values():
                produced.append((Path(f.path).suffix.lower() or ".bin", ws.read_bytes(f.path)))
    return produced, events
