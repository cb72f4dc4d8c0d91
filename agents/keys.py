"""Stable names and seeds: every id and random choice is a pure function of a key.

Nothing here reads a clock or a global random state, so the same run seed and
the same keys give the same ids, permutations and choices in every process
(in-process or NATS, first run or resume).
"""

from __future__ import annotations

import functools
import hashlib
import random
import re

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, max_len: int = 40) -> str:
    """Lowercase `a-z0-9-` form of a name (for ids); never empty."""
    cleaned = _NON_SLUG.sub("-", text.lower()).strip("-")
    cleaned = cleaned[:max_len].rstrip("-")
    return cleaned or "x"


def derive_seed(run_seed: int, *key: object) -> int:
    """A 63-bit seed derived from the run seed and a stable key."""
    raw = "\x1f".join([str(run_seed), *(str(k) for k in key)]).encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big") >> 1


def seeded_rng(run_seed: int, *key: object) -> random.Random:
    """A private random generator for one decision (never the global one)."""
    return random.Random(derive_seed(run_seed, *key))


@functools.lru_cache(maxsize=256)
def _permutation(n: int, run_seed: int, key: tuple[object, ...]) -> tuple[int, ...]:
    order = list(range(n))
    seeded_rng(run_seed, "permutation", *key).shuffle(order)
    return tuple(order)


def seeded_permutation(n: int, run_seed: int, *key: object) -> tuple[int, ...]:
    """A permutation of range(n) fixed by the run seed and the key (cached: it is pure)."""
    return _permutation(n, run_seed, tuple(str(k) for k in key))


def plan_id(subtask: str, dataset_id: str, round_: int) -> str:
    return f"p-{slug(subtask, 32)}-{slug(dataset_id, 24)}-r{round_}"


def sample_id(subtask: str, dataset_id: str, slot: int, attempt: int) -> str:
    """`<subtask>-<dataset>-<slot>-a<attempt>`: the same slot attempt always has the same id."""
    return f"{slug(subtask, 32)}-{slug(dataset_id, 24)}-{slot:04d}-a{attempt}"


def short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]
