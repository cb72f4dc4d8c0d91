"""The media files stored in the log, by their content-addressed name (`media/<sha256>.<ext>`).

The bytes are those of the `MediaStored` events the run's history already holds: no copy.
"""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, MediaStored


class Media(Projection):
    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}

    @on(MediaStored)
    def _stored(self, env: Envelope[MediaStored]) -> None:
        self.stored[env.payload.name] = env.payload.data

    def __contains__(self, name: object) -> bool:
        return name in self.stored
