"""The media files a run produced, by their content-addressed name (`media/<sha256>.<ext>`).

Events name each file (`MediaStored`: sha256 and size); the bytes are in the run's blob
store (`store/blobs.py`), read only by what writes files (`build`, `replay`, `export`) and
by `verify`.
"""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, MediaStored


class Media(Projection):
    def __init__(self) -> None:
        self.stored: dict[str, MediaStored] = {}  # name → its (first) MediaStored

    @on(MediaStored)
    def _stored(self, env: Envelope[MediaStored]) -> None:
        self.stored.setdefault(env.payload.name, env.payload)

    def __contains__(self, name: object) -> bool:
        return name in self.stored
