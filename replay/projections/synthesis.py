"""Synthesized generators: their plans, every attempt and its verdicts, and the generators
that passed (by name: the latest revision; by `name@version`: exactly what made an item)."""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    Envelope,
    GeneratorChecked,
    GeneratorDrafted,
    GeneratorPlanned,
    GeneratorSynthesized,
)

# A generator's dataset id, like the built-in ones' cards (`gen-<name>`).
DATASET_PREFIX = "gen-"


def generator_dataset_id(name: str) -> str:
    return f"{DATASET_PREFIX}{name}"


def version_key(name: str, version: str) -> str:
    return f"{name}@{version}"


class Synthesis(Projection):
    def __init__(self) -> None:
        self.plans: defaultdict[str, list[Envelope[GeneratorPlanned]]] = defaultdict(list)
        self.drafts: defaultdict[str, list[Envelope[GeneratorDrafted]]] = defaultdict(list)
        self.checks: defaultdict[str, list[Envelope[GeneratorChecked]]] = defaultdict(list)
        self.generators: dict[str, GeneratorSynthesized] = {}  # by name: the latest revision
        self.versions: dict[str, GeneratorSynthesized] = {}  # by name@version: the latest
        self.passed_sources: set[str] = set()  # sha256 of sources that passed both stages

    @on(GeneratorPlanned)
    def _planned(self, env: Envelope[GeneratorPlanned]) -> None:
        self.plans[env.payload.plan.name].append(env)

    @on(GeneratorDrafted)
    def _drafted(self, env: Envelope[GeneratorDrafted]) -> None:
        self.drafts[env.payload.name].append(env)

    @on(GeneratorChecked)
    def _checked(self, env: Envelope[GeneratorChecked]) -> None:
        self.checks[env.payload.name].append(env)

    @on(GeneratorSynthesized)
    def _synthesized(self, env: Envelope[GeneratorSynthesized]) -> None:
        p = env.payload
        known = self.generators.get(p.name)
        if known is None or p.revision >= known.revision:
            self.generators[p.name] = p
        self.versions[version_key(p.name, p.version)] = p
        self.passed_sources.add(p.sha256)

    def for_dataset(self, dataset_id: str) -> GeneratorSynthesized | None:
        """The synthesized generator behind a dataset id (None: not a synthesized one)."""
        if not dataset_id.startswith(DATASET_PREFIX):
            return None
        return self.generators.get(dataset_id[len(DATASET_PREFIX):])

    def latest_plan(self, name: str) -> Envelope[GeneratorPlanned] | None:
        plans = self.plans.get(name)
        return max(plans, key=lambda e: e.payload.revision) if plans else None
