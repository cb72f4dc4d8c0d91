"""Where agents get source data: the run's dataset pool and the built-in generators.

A run names its pool directories in `RunRequested.pools`; every worker loads
that pool itself (once per process, cached by the directory list), so a worker
can serve any run without being told anything but the log.

A generated item is re-created (to verify or score it) from its `GeneratedBy`
only by the generator version that made it: other code could give another
instance for the same seed, so a version mismatch is refused, never guessed at.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from store.events import GeneratedBy, RunRequested
from tools.pool import Pool

if TYPE_CHECKING:
    from tools.generators.base import Generator, Instance


class PoolCache:
    """Pools by (directories, generators) for the life of a process."""

    def __init__(self) -> None:
        self._pools: dict[tuple[tuple[str, ...], bool], Pool] = {}
        self._lock = threading.Lock()

    def get(self, dirs: list[str], generators: bool = True) -> Pool:
        key = (tuple(dirs), generators)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = Pool.load([Path(d) for d in dirs], include_generators=generators)
                self._pools[key] = pool
            return pool

    def put(self, dirs: list[str], generators: bool, pool: Pool) -> None:
        """Share a pool this process already loaded (e.g. while checking the input)."""
        with self._lock:
            self._pools[(tuple(dirs), generators)] = pool

    def for_request(self, request: RunRequested) -> Pool:
        return self.get(list(request.pools), bool(request.config.get("generators", True)))


def get_generator(name: str) -> Generator:
    """A built-in procedural generator by name (tools/generators/registry.py)."""
    from tools.generators.registry import get_generator as lookup

    return lookup(name)


class GeneratorVersionMismatch(Exception):
    """The generator's code is not the version that made an item; the message says both."""


def recreate(source: GeneratedBy) -> tuple[Generator, Instance]:
    """The generator and the instance an item was made from (same version, seed, params)."""
    gen = get_generator(source.name)
    if gen.version != source.version:
        raise GeneratorVersionMismatch(
            f"the item was made by {source.name} version {source.version}, this build has "
            f"version {gen.version}: its instance cannot be re-created")
    return gen, gen.sample(source.seed, dict(source.params))
