"""Scoring a model's answer to a benchmark item: choice match, normalised exact match,
or the generator's own scorer for generated items (re-created from the version that made
them; another version is refused with a recorded reason, never scored by guesswork)."""

from __future__ import annotations

import re
import string
from typing import Any

from agents.sources import GeneratorVersionMismatch, recreate
from store.events import BenchmarkItem, GeneratedBy, ItemSource

REFUSED = "refused"  # the scorer's name when it cannot score an item at all

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_LEAD_LETTER = re.compile(r"^\s*(?:answer\s*[:is]*\s*)?\(?([A-Za-z])\)?(?=$|[.):,\s])", re.I)
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*\(?([A-Za-z])\)?(?=$|[.):,\s])", re.I)


def normalize_answer(text: str) -> str:
    """Lowercase, no punctuation, no articles, single spaces (SQuAD-style)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def chosen_letter(answer: str, choices: list[str]) -> str | None:
    """The option a free-form answer picks: a leading letter, "answer is X", or a choice's text."""
    for pattern in (_LEAD_LETTER, _ANSWER_IS):
        m = pattern.search(answer.strip())
        if m and ord(m.group(1).upper()) - ord("A") < len(choices):
            return m.group(1).upper()
    said = normalize_answer(answer)
    matches = [i for i, c in enumerate(choices) if normalize_answer(c) == said]
    if len(matches) == 1:
        return chr(ord("A") + matches[0])
    return None


def score_answer(item: BenchmarkItem, answer: str,
                 source: ItemSource) -> tuple[float, str, dict[str, Any]]:
    """(score in [0, 1], scorer name, detail)."""
    meta = item.metadata
    if isinstance(source, GeneratedBy):
        try:
            gen, instance = recreate(source)
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
