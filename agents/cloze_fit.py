"""How well each option fills a cloze item's blank, by the Verifier's own language model.

A cloze item's label is the source text's own span ("It went off <MASK>" → "30 minutes
ago"): it cannot be wrong; what can go wrong is a distractor that fills the blank as well.
The letter blind solve asks the model to find the blank in a long dialogue and answer with a
letter: of the 47 distinct cloze items two temporal builds verified, the 1.5B's letter solve
kept 7, and most of the rest I read were sound ("It takes us almost <MASK> to get to school"
→ "1 hour", answered "eight seconds"). Scoring instead the text with each option filled in
(the option and the rest of its sentence, right after the text before the blank: how
lm-evaluation-harness scores multiple-choice cloze tasks) picked the label on 46 of the 47
(`perf/cloze_fit.py`; `tests/tools/test_local_scoring.py` keeps a case on the real model).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from agents.cloze import MASK
from store.events import BenchmarkItem


def fill_texts(item: BenchmarkItem) -> tuple[str, list[str]] | None:
    """(the item's text before its blank, each option followed by the rest of the blank's
    sentence) for a cloze item with options; None for any other item."""
    sentence = item.metadata.get("cloze_sentence")
    if not item.choices or not isinstance(sentence, str) or not sentence:
        return None
    mask = MASK.search(sentence)
    if mask is None:
        return None
    at = item.input.find(sentence)
    if at < 0:  # the sentence was reflowed into the input: its first blank is the one
        first = MASK.search(item.input)
        if first is None:
            return None
        before, rest = item.input[:first.start()], item.input[first.end():]
        rest = rest[:len(sentence) - mask.end()]
    else:
        before = item.input[:at + mask.start()]
        rest = sentence[mask.end():]
    gap = "" if not before or before[-1].isspace() else " "
    return before, [f"{gap}{option}{rest}" for option in item.choices]


def option_shares(scores: list[float]) -> list[float]:
    """Each option's share of the probability of the filled texts (a softmax of their
    log-probabilities)."""
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


class Fit(NamedTuple):
    """Where a cloze item's fit lands: the option that fills the blank likeliest, the label's
    option (-1: the target names none) and the label's share of the filled texts'
    probability."""

    best: int
    label: int
    share: float


def fit_of(item: BenchmarkItem, scores: list[float]) -> Fit:
    """The fit of `item` whose options the model scored `scores` in the blank."""
    shares = option_shares(scores)
    best = max(range(len(shares)), key=shares.__getitem__)
    label = ord(item.target.strip().upper()[:1] or "?") - ord("A")
    in_range = 0 <= label < len(shares)
    return Fit(best, label if in_range else -1, shares[label] if in_range else 0.0)
