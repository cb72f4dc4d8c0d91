"""Synthesized generators served from the source their run recorded, never from disk.

`serve(record)` is the generator of a `GeneratorSynthesized` event: one warm sandbox per
(name, source, parameter ranges) in a process, shared by the agents that realize, verify and
score its items; the least recently used are closed beyond `MAX_SERVED`.

Every call runs on one long-lived thread of the process: bubblewrap's `--die-with-parent`
kills a sandbox when the *thread* that started it ends, so a sandbox started on a worker
thread that goes away (an event loop's executor, after `asyncio.run` returns) would be
killed under the next caller.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from cachetools import LRUCache

from agents.synthesis.plan import param_specs
from store.events import GeneratorSynthesized
from tools.generators.base import CheckResult, Instance, ParamSpec, RenderedItem, Score
from tools.sandbox.synthesized import SynthesizedGenerator

MAX_SERVED = 16
T = TypeVar("T")

_sandbox_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthesized")


class ServedGenerator:
    """A `SynthesizedGenerator` (the `Generator` protocol) whose calls all run on the one
    sandbox thread."""

    def __init__(self, gen: SynthesizedGenerator) -> None:
        self._gen = gen
        self.name: str = gen.name
        self.version: str = gen.version
        self.sha256: str = gen.sha256
        self.params: list[ParamSpec] = gen.params

    def _run(self, function: Callable[..., T], *args: Any) -> T:
        return _sandbox_thread.submit(function, *args).result()

    def card(self) -> dict[str, Any]:
        return self._gen.card()

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        return self._run(self._gen.sample, seed, params)

    def verify(self, instance: Instance) -> list[CheckResult]:
        return self._run(self._gen.verify, instance)

    def score(self, instance: Instance, answer: str) -> Score:
        return self._run(self._gen.score, instance, answer)

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        return self._run(self._gen.render, instance, workspace, mode)

    def close(self) -> None:
        self._run(self._gen.close)


class _Served(LRUCache[str, ServedGenerator]):
    def popitem(self) -> tuple[str, ServedGenerator]:
        key, gen = super().popitem()
        gen.close()  # its sandbox process goes with it
        return key, gen


_served = _Served(maxsize=MAX_SERVED)
_lock = threading.Lock()


def _key(record: GeneratorSynthesized) -> str:
    params = msgspec.json.encode(record.params, order="deterministic")
    return f"{record.name}:{record.sha256}:{hashlib.sha256(params).hexdigest()}"


def serve(record: GeneratorSynthesized) -> ServedGenerator:
    """The generator of a recorded synthesis (its source checked against its sha256)."""
    actual = hashlib.sha256(record.source.encode()).hexdigest()
    if actual != record.sha256:
        raise ValueError(f"generator {record.name}: its recorded source hashes to {actual}, "
                         f"not the recorded {record.sha256}")
    key = _key(record)
    with _lock:
        gen = _served.get(key)
        if gen is None:
            gen = ServedGenerator(SynthesizedGenerator(
                record.name, record.source, params=param_specs(record.params),
                description=record.description, title=f"{record.name} (synthesized)"))
            _served[key] = gen
        return gen
