"""Synthesized generators served from the source their run recorded, never from disk.

`serve(record)` is the `SynthesizedGenerator` of a `GeneratorSynthesized` event: one warm
sandbox per (name, source, parameter ranges) in a process, shared by the agents that realize,
verify and score its items; the least recently used are closed beyond `MAX_SERVED`.
"""

from __future__ import annotations

import hashlib
import threading

import msgspec
from cachetools import LRUCache

from agents.synthesis.plan import param_specs
from store.events import GeneratorSynthesized
from tools.sandbox.synthesized import SynthesizedGenerator

MAX_SERVED = 16


class _Served(LRUCache[str, SynthesizedGenerator]):
    def popitem(self) -> tuple[str, SynthesizedGenerator]:
        key, gen = super().popitem()
        gen.close()  # its sandbox process goes with it
        return key, gen


_served = _Served(maxsize=MAX_SERVED)
_lock = threading.Lock()


def _key(record: GeneratorSynthesized) -> str:
    params = msgspec.json.encode(record.params, order="deterministic")
    return f"{record.name}:{record.sha256}:{hashlib.sha256(params).hexdigest()}"


def serve(record: GeneratorSynthesized) -> SynthesizedGenerator:
    """The generator of a recorded synthesis (its source checked against its sha256)."""
    actual = hashlib.sha256(record.source.encode()).hexdigest()
    if actual != record.sha256:
        raise ValueError(f"generator {record.name}: its recorded source hashes to {actual}, "
                         f"not the recorded {record.sha256}")
    key = _key(record)
    with _lock:
        gen = _served.get(key)
        if gen is None:
            gen = SynthesizedGenerator(record.name, record.source,
                                       params=param_specs(record.params),
                                       description=record.description,
                                       title=f"{record.name} (synthesized)")
            _served[key] = gen
        return gen
