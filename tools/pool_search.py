"""Ranked search over dataset cards: BM25 (bm25s) with English stemming (Snowball).

Each card becomes one document made of its name, description, card text,
tasks, domain and the semantics of its fields. The name and tasks are repeated
so that a query naming the task outranks one that merely brushes the prose.
Ties are broken by dataset id so the ranking is the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s

from tools.cards import DatasetCard
from tools.stemming import stem_words

METHOD = "bm25"
_NAME_WEIGHT = 3
_TASK_WEIGHT = 2
# Derivational endings Snowball keeps (causal/causation vs cause, recognit vs recogn):
# stripping them lets "cause" find "causal reasoning". Stems stay at least 4 letters.
_DERIVATIONAL = ("al", "at", "it", "i")


def _conflate(stem: str) -> str:
    for suffix in _DERIVATIONAL:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 4:
            return stem[: -len(suffix)]
    return stem


def card_document(card: DatasetCard) -> str:
    """The searchable text of a card."""
    words = lambda s: s.replace("_", " ").replace("-", " ")  # noqa: E731 - tiny local helper
    parts: list[str] = [words(card.name)] * _NAME_WEIGHT
    parts += [words(t) for t in card.tasks] * _TASK_WEIGHT
    parts += [card.description, card.card_text, words(card.domain)]
    parts += [f.semantics for f in card.meta.fields.values()]
    parts.append(card.meta.meta_structure_description)
    return "\n".join(p for p in parts if p)


class CardIndex:
    """A BM25 index over a fixed list of cards."""

    def __init__(self, cards: Sequence[DatasetCard]) -> None:
        self.cards = list(cards)
        self._stem = lambda words: [_conflate(w) for w in stem_words(words)]
        self._retriever: bm25s.BM25 | None = None
        if self.cards:
            corpus = self._tokenize([card_document(c) for c in self.cards])
            self._retriever = bm25s.BM25()
            self._retriever.index(corpus, show_progress=False)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stem,
            return_ids=False, show_progress=False,
        )

    def search(
        self, query: str, k: int = 5, modality: Sequence[str] | None = None
    ) -> list[tuple[DatasetCard, float]]:
        """Top `k` cards by BM25 score (> 0), best first, ties by dataset id.

        `modality`: keep only datasets that provide every listed modality.
        """
        if self._retriever is None or k <= 0:
            return []
        tokens = self._tokenize([query])[0]
        if not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        wanted = set(modality or ())
        ranked = [
            (card, round(float(score), 6))
            for card, score in zip(self.cards, scores, strict=True)
            if score > 0 and wanted <= set(card.modalities)
        ]
        ranked.sort(key=lambda pair: (-pair[1], pair[0].dataset_id))
        return ranked[:k]
