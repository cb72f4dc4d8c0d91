"""Scoring a model's answer to a benchmark item: choice match, normalised exact match,
or the generator's own scorer for generated items (re-created from the version that made
them — a synthesized one from the source its run recorded; another version is refused with a
recorded reason, never scored by guesswork)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.answers import chosen_letter, normalize_answer
from agents.sources import GeneratorVersionMismatch, recreate
from store.events import BenchmarkItem, GeneratedBy, ItemSource

if TYPE_CHECKING:
    from replay.projections import Synthesis

REFUSED = "refused"  # the scorer's name when it cannot score an item at all

def score_answer(item: BenchmarkItem, answer: str, source: ItemSource,
                 synthesized: Synthesis | None = None) -> tuple[float, str, dict[str, Any]]:
    """(score in [0, 1], scorer name, detail). `synthesized`: the run's synthesized
    generators, whose recorded source scores their items."""
    meta = item.metadata
    if isinstance(source, GeneratedBy):
        try:
            gen, instance = recreate(source, synthesized)
        except GeneratorVersionMismatch as exc:
            return 0.0, REFUSED, {"error": str(exc)}
        result = gen.score(instance, answer)
        return float(result.score), f"generator:{source.name}", dict(result.detail)
    if item.choices:
        picked = chosen_letter(answer, item.choices)
        return (1.0 if picked == item.target else 0.0), "choice_match", {"picked": picked}
    acceptable = [str(a) for a in meta.get("acceptable_answers", [])] or [item.target]
    said = normalize_answer(answer)
    hit = any(said == normalize_answer(a) for a in acceptable)
    return (1.0 if hit else 0.0), "exact_match", {"normalized": said}
