"""Where agents get source data: the run's dataset pool, the built-in generators, and the
generators the run synthesized (their code read from its log).

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

from replay.projections.synthesis import version_key
from store.events import GeneratedBy, RunRequested, is_synthesized
from tools.pool import Pool

if TYPE_CHECKING:
    from replay.projections import Synthesis
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


def get_generator(name: str, synthesized: Synthesis | None = None) -> Generator:
    """A generator by name: built in (tools/generators/registry.py), or synthesized by the
    run (`synthesized`: its projection; the latest revision, served from the source its log
    recorded, never from a file)."""
    if is_synthesized(name):
        record = synthesized.generators.get(name) if synthesized is not None else None
        if record is None:
            raise GeneratorUnavailable(f"generator {name!r} was not synthesized in this run")
        from agents.synthesis.serving import serve

        return serve(record)
    from tools.generators.registry import get_generator as lookup

    return lookup(name)


class GeneratorVersionMismatch(Exception):
    """The generator's code is not the version that made an item; the message says both."""


class GeneratorUnavailable(LookupError):
    """No generator of that name for this run."""


def recreate(source: GeneratedBy,
             synthesized: Synthesis | None = None) -> tuple[Generator, Instance]:
    """The generator and the instance an item was made from (same version, seed, params).

    A synthesized generator is re-created from the source the run recorded for exactly that
    version (`synthesized`, the run's projection)."""
    if is_synthesized(source.name):
        key = version_key(source.name, source.version)
        record = synthesized.versions.get(key) if synthesized is not None else None
        if record is None:
            raise GeneratorVersionMismatch(
                f"the item was made by {source.name} version {source.version}, and the run's "
                "log records no synthesized generator of that version")
        from agents.synthesis.serving import serve

        gen: Generator = serve(record)
    else:
        gen = get_generator(source.name)
    if gen.version != source.version:
        raise GeneratorVersionMismatch(
            f"the item was made by {source.name} version {source.version}, this build has "
            f"version {gen.version}: its instance cannot be re-created")
    return gen, gen.sample(source.seed, dict(source.params))
