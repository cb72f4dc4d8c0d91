"""Does a dataset ask what a subtask tests? A cue-word check of its sampled questions (free).

A small model grounds a causal-reasoning subtask on a reading-comprehension dataset whose
card says "many questions involve causal reasoning", and the items then ask "Which singer
made a hit record…?". Grounding reads a handful of the dataset's own questions first: a
question is on-target when it uses a cue of the subtask's capability — a cue of the
capability family the subtask's words name (cause and effect: "why", "because", "lead to",
"result"…), or else a content word of its name or capability. A dataset whose sampled
questions are mostly off-target is filtered before any plan is asked for.

A dataset without a question field asks what its card says it asks: its description and
task names stand for its questions. `perf/relevance.py` prints how this agrees with a
hand labelling of the pool's datasets for the demo's subtasks.
"""

from __future__ import annotations

import re

from store.events import DatasetRelevance, Subtask
from tools.cards import DatasetCard
from tools.pool import Pool
from tools.stemming import stem_words

ON_TARGET_SHARE = 0.5  # a dataset is kept when at least this share of its questions is on-target
SAMPLED_QUESTIONS = 12

# Words any subtask may use whatever it tests: they cannot tell one capability from another.
_GENERIC = frozenset({
    "abil", "about", "analys", "analyz", "answer", "assess", "benchmark", "choic", "choos",
    "correct", "determin", "evalu", "event", "everyday", "given", "identif", "identifi",
    "infer", "item", "model", "multipl", "pick", "predict", "question", "reason", "select",
    "short", "skill", "task", "test", "text", "understand",
})
# Capability families: the stems that name one in a subtask, and the cues its questions use.
_FAMILIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "cause and effect": (
        frozenset({"caus", "causal", "effect", "consequ", "impact", "why", "counterfactu"}),
        ("why", "because", "cause", "caused", "causes", "effect", "effects", "result",
         "resulted", "lead", "led", "leads", "due", "consequence", "consequences", "outcome", "affect", "affected", "happen", "happened", "therefore"),
    ),
    "time": (
        frozenset({"tempor", "time", "durat", "sequenc", "order", "chronolog", "span"}),
        ("when", "before", "after", "long", "duration", "time", "temporal", "first", "then",
         "during", "until", "while", "order", "hours", "minutes", "days", "weeks", "years"),
    ),
    "people": (
        frozenset({"social", "feel", "emot", "react", "motiv", "intent", "mental"}),
        ("feel", "felt", "feels", "react", "want", "wants", "why", "motive", "intend",
         "emotion", "others", "happen", "next", "need"),
    ),
}
_WORD = re.compile(r"[a-z]+")


def stems(text: str) -> set[str]:
    return set(stem_words(_WORD.findall(text.lower())))


def capability_cues(sub: Subtask) -> frozenset[str]:
    """The stems whose presence makes a question on-target for `sub` (empty: cannot tell).

    When the subtask's words name a capability family, its questions are told by that
    family's cues (a subtask's other words, "relationships", "validity", would match any
    question that uses them); otherwise by the subtask's own content words."""
    own = {s for s in stems(f"{sub.name} {sub.capability}") - _GENERIC if len(s) >= 3}
    described = stems(sub.description)
    cues: set[str] = set()
    for names, family_cues in _FAMILIES.values():
        if own & names or described & names:
            cues |= stems(" ".join(family_cues)) | (own & names)
    return frozenset(cues or own)


def card_asks(card: DatasetCard) -> str:
    """What a dataset without questions asks, by its card."""
    return f"{card.description} {' '.join(t.replace('_', ' ') for t in card.tasks)}"


def sampled_questions(pool: Pool, card: DatasetCard, n: int = SAMPLED_QUESTIONS) -> list[str]:
    """The questions of `n` items spread evenly over the dataset (its card's words when it
    has no question field)."""
    if "question" not in card.meta.fields:
        return [card_asks(card)]
    items = pool.items(card.dataset_id)
    picked = [items[i * len(items) // n] for i in range(min(n, len(items)))]
    out = []
    for item in picked:
        value = item.fields.get("question")
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out or [card_asks(card)]


def on_target(question: str, cues: frozenset[str]) -> bool:
    return bool(stems(question) & cues)


def relevance(sub: Subtask, card: DatasetCard, pool: Pool,
              threshold: float = ON_TARGET_SHARE) -> DatasetRelevance | None:
    """The dataset's relevance to the subtask (None: not measured — a generator, whose
    parameters are chosen for the subtask, or a subtask whose words name no cue)."""
    cues = capability_cues(sub)
    if card.generator or not cues:
        return None
    questions = sampled_questions(pool, card)
    hits = [on_target(q, cues) for q in questions]
    share = sum(hits) / len(hits)
    off = [q[:120] for q, hit in zip(questions, hits, strict=True) if not hit]
    return DatasetRelevance(dataset_id=card.dataset_id, on_target=round(share, 3), sampled=len(hits),
                     kept=share >= threshold, examples=off[:2])
