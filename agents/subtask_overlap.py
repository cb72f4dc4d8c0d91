"""Near-duplicate subtasks, measured rather than asked: character n-gram cosine of their words.

A small model asked for "distinct" subtasks still proposes three wordings of one capability
("Identify causal relationships…", "Analyze the impact of different causes…", "Evaluate the
validity of causal reasoning"). Two subtasks are near-duplicates when the cosine of their
character 3–5-gram profiles (scikit-learn's `TfidfVectorizer`, `char_wb`, sublinear term
frequency, no idf so that a pair's score does not depend on the other subtasks) over name,
description and capability reaches `DUPLICATE_THRESHOLD`, unless they name different input
modalities (image, audio, video). Stop words and the words every
subtask of a benchmark shares ("evaluate", "everyday", "events"…) are left out first: they
say nothing about what an item tests.

The threshold was picked on the labelled duplicate / distinct pairs of
`tests/agents/subtask_pairs.py`; `perf/subtask_duplicates.py` prints its accuracy there.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from store.events import NearDuplicate, Subtask

DUPLICATE_THRESHOLD = 0.32

# Words any subtask of a benchmark may use whatever it tests.
_GENERIC = frozenset({
    "ability", "analyze", "analyse", "assess", "benchmark", "determine", "evaluate", "event",
    "events", "everyday", "given", "identify", "item", "items", "model", "models", "subtask",
    "task",
})
_WORD = re.compile(r"[a-z]+")


def subtask_words(name: str, description: str, capability: str) -> str:
    """What a subtask says it tests, without stop words and benchmark-wide words."""
    text = f"{name}. {description} {capability}".lower()
    return " ".join(w for w in _WORD.findall(text)
                    if w not in ENGLISH_STOP_WORDS and w not in _GENERIC)


def similarity(a: str, b: str) -> float:
    """Cosine of the character n-gram profiles of two texts (0 when either has no words)."""
    if not a.strip() or not b.strip():
        return 0.0
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), use_idf=False,
                              sublinear_tf=True).fit_transform([a, b])
    return float(cosine_similarity(vectors[0], vectors[1])[0, 0])


# Inputs of another kind make other items, however alike the wording ("Say what a long photo
# shows" / "Say what a long recording shows").
_MODALITY_WORDS = {
    "image": ("image", "images", "photo", "photos", "picture", "pictures", "visual", "chart"),
    "audio": ("audio", "speech", "spoken", "recording", "recordings", "sound", "sounds"),
    "video": ("video", "videos", "clip", "clips"),
}


def modalities_named(words: str) -> frozenset[str]:
    said = set(words.split())
    return frozenset(m for m, cues in _MODALITY_WORDS.items() if said & set(cues))


def subtask_similarity(a: Subtask, b: Subtask) -> float:
    """0 when the two name different input modalities, else the n-gram cosine of their words."""
    wa = subtask_words(a.name, a.description, a.capability)
    wb = subtask_words(b.name, b.description, b.capability)
    if modalities_named(wa) != modalities_named(wb):
        return 0.0
    return similarity(wa, wb)


def near_duplicate_of(sub: Subtask, others: list[Subtask],
                      threshold: float = DUPLICATE_THRESHOLD) -> NearDuplicate | None:
    """The closest of `others` when `sub` is a near-duplicate of it, else None."""
    scores = [(subtask_similarity(sub, o), o) for o in others]
    best = max(scores, key=lambda t: t[0], default=None)
    if best is None or best[0] < threshold:
        return None
    return NearDuplicate(name=sub.name, duplicate_of=best[1].name, similarity=round(best[0], 3))


def drop_near_duplicates(
    subtasks: list[Subtask], threshold: float = DUPLICATE_THRESHOLD,
) -> tuple[list[Subtask], list[NearDuplicate]]:
    """The subtasks in order with each near-duplicate of an earlier kept one dropped, and
    what was dropped (with the kept subtask it repeats and the measured similarity)."""
    kept: list[Subtask] = []
    dropped: list[NearDuplicate] = []
    for sub in subtasks:
        duplicate = near_duplicate_of(sub, kept, threshold)
        if duplicate is not None:
            dropped.append(duplicate)
        else:
            kept.append(sub)
    return kept, dropped
