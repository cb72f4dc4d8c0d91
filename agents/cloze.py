"""Cloze items: a text with one masked span (`<MASK>`, `[MASK]`, `___`) whose answer fills it.

Temporal-Reasoning's dialogues say "I managed to lose 15 pounds in <MASK>" and give no question:
the question is what fills the mask, and it needs no model to write it. A 1.5B asked to write one
asks about something else in the dialogue ("What is the duration of the TV series…"), which the
Verifier then rejects after two or three calls.

Its answers are lists of paraphrases ("2 months", "60 days", "eight weeks"): a free answer is
scored only by a judge, so under a multiple-choice plan the options come from the dataset's other
answers, each sharing no content word with any paraphrase of the answer nor with another option
("ten minutes", "1999", "three hours" beside "2 months"): no option says what another says, and
the blind solve decides whether the context picks the answer out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from agents.item_checks import content_stems
from agents.keys import seeded_rng
from agents.realize import as_text, source_target
from store.events import BenchmarkItem, TransformationPlan
from tools.pool import Pool, SourceItem

MASK = re.compile(r"<MASK>|\[MASK\]|\[BLANK\]|_{3,}", re.IGNORECASE)
DISTRACTORS = 3  # a four-option item, like the pool's own multiple-choice sets
# An item is cloze-shaped, for a plan, when most sampled items are.
MOST = 0.5


def mask_of(texts: Sequence[str]) -> str | None:
    """The mask token when the texts hold exactly one masked span (None otherwise)."""
    found = [m.group(0) for text in texts for m in MASK.finditer(text)]
    return found[0] if len(found) == 1 else None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s+(?=[A-Z][a-z]*:)")  # a full stop, or a turn "B:"


def masked_sentence(text: str, mask: str) -> str:
    """The sentence of `text` that holds the mask ("" without one)."""
    for sentence in _SENTENCE_END.split(text):
        if mask in sentence:
            return sentence.strip()
    return ""


def asked_text(item: BenchmarkItem) -> str:
    """What an item asks, for a cue check of the capability it tests: its question, or for a
    cloze item the sentence of its text that holds the mask (`cloze_sentence`, recorded when
    it was realized: an instruction may name the mask too) and the options that may fill it
    ("lose 15 pounds in <MASK>": two months / ten minutes / 1999 asks about time)."""
    question = str(item.metadata.get("question") or item.input)
    sentence = item.metadata.get("cloze_sentence")
    if not isinstance(sentence, str) or not sentence:
        return question
    return " ".join([sentence, *(item.choices or []), question])


def cloze_question(mask: str, multiple_choice: bool) -> str:
    """The question a cloze item asks: what fills its mask."""
    if multiple_choice:
        return f"Which option best fills {mask} in the text above?"
    return f"What words best fill {mask} in the text above? Answer with those words only."


def _key(answers: Sequence[str]) -> frozenset[str]:
    """The content words of every paraphrase of an answer."""
    return frozenset().union(*(content_stems(a) for a in answers))


@lru_cache(maxsize=64)
def _answer_pool(pool: Pool, dataset_id: str, target_field: str
                 ) -> tuple[tuple[str, frozenset[str]], ...]:
    out = []
    for item in pool.items(dataset_id):
        value = item.fields.get(target_field)
        if value in (None, ""):
            continue
        target, acceptable = source_target(value)
        key = _key(acceptable)
        if target and key and len(target) <= 60:
            out.append((target, key))
    return tuple(out)


def pool_distractors(pool: Pool, dataset_id: str, target_field: str, acceptable: list[str],
                     run_seed: int, sample_id: str) -> list[str]:
    """Up to `DISTRACTORS` other answers of the dataset that share no content word with the
    item's answer (any paraphrase) or with each other; the closest in length first, ties in
    a seeded order, so an item's options depend on the item and the run seed alone."""
    taken = _key(acceptable)
    target_words = len(acceptable[0].split()) if acceptable else 0
    candidates = list(_answer_pool(pool, dataset_id, target_field))
    rng = seeded_rng(run_seed, "cloze-distractors", sample_id)
    rng.shuffle(candidates)
    candidates.sort(key=lambda c: abs(len(c[0].split()) - target_words))
    chosen: list[str] = []
    for text, key in candidates:
        if key & taken:
            continue
        chosen.append(text)
        taken |= key
        if len(chosen) == DISTRACTORS:
            break
    return chosen


def paraphrase_answers(answers: Sequence[Sequence[str]]) -> bool:
    """Most items list several paraphrases of their answer: an open answer only a judge
    could score."""
    return bool(answers) and sum(len(a) >= 2 for a in answers) > MOST * len(answers)


def needs_options(plan: TransformationPlan, sources: Sequence[SourceItem]) -> str:
    """Why an open-answer plan on cloze items should offer options ("" when it should not):
    most items mask one span and list paraphrases of its answer, which exact match cannot
    score and a judge can only guess at."""
    if plan.answer_format not in ("short_answer", "free_text") or "options" in plan.input_fields:
        return ""
    masked = [s for s in sources
              if mask_of([as_text(s.fields[r]) for r in plan.input_fields if r in s.fields])]
    answers = [source_target(s.fields[plan.target_field])[1] for s in masked
               if s.fields.get(plan.target_field) not in (None, "")]
    if len(masked) <= MOST * len(sources) or not paraphrase_answers(answers):
        return ""
    return (f"{len(masked)} of {len(sources)} sampled items mask one span and list paraphrases "
            "of its answer, which exact match cannot score: multiple choice, the options "
            "drawn from the dataset's other answers")
