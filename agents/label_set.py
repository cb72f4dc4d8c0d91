"""A dataset's closed label set (a classification's classes): the options of a multiple-choice
item that no model has to write.

Temporal-Event-Reasoning asks for one of 13 temporal relations and lists them in its prompt,
but has no options; natural-language inference has three labels, a yes/no diagnosis two.
Asking the model for distractors there pays a call per item for something the dataset
already says, and a 1.5B invents relations the label set does not have. A label set is
closed when it has a few labels that many items repeat; letters and numbers are not labels
(they point at options the item lacks).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from agents.answers import text_key
from agents.realize import source_target
from tools.pool import Pool

MAX_LABELS = 20
# Items per label, on average: 13 relations over 200 items is 15; a VQA set whose 44 answers
# name 12 different things ("Solution A", "a compound") is 3.7 and not a label set.
MIN_ITEMS_PER_LABEL = 8
DISTRACTORS = 3  # a four-option item, like the pool's own multiple-choice sets


@lru_cache(maxsize=64)
def _labels(pool: Pool, dataset_id: str, target_field: str) -> tuple[str, ...]:
    counts = Counter(source_target(value)[0] for item in pool.items(dataset_id)
                     if (value := item.fields.get(target_field)) not in (None, ""))
    counts.pop("", None)
    if not 2 <= len(counts) <= MAX_LABELS or \
            sum(counts.values()) < MIN_ITEMS_PER_LABEL * len(counts):
        return ()
    if all(len(label) == 1 or label.isdigit() for label in counts):
        return ()
    return tuple(label for label, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def closed_labels(pool: Pool, dataset_id: str, target_field: str) -> list[str]:
    """The dataset's labels, most frequent first, when they form a closed set (else [])."""
    return list(_labels(pool, dataset_id, target_field))


def label_distractors(labels: list[str], acceptable: list[str]) -> list[str]:
    """The most frequent labels that are not the item's answer: the likeliest confusions."""
    answers = {text_key(a) for a in acceptable}
    return [label for label in labels if text_key(label) not in answers][:DISTRACTORS]
