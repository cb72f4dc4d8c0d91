"""Is an item in the everyday register? Rare words say it is not (free, no model).

A subtask about cause and effect in everyday events grounded on an e-CARE-like dataset gets
"One should preserve acids in a bottle with alkalis", enantiomers and reagents, a radiolarian
under the microscope: causal, but laboratory and science, not everyday life. Everyday
events are told in common words; technical matter needs rare ones. A word is rare when its
Zipf frequency in English (`wordfreq`: log10 of its frequency per billion words, 1–7; the
word's or its stem's, whichever is commoner) is below `EVERYDAY_ZIPF`; an item whose content words include a rare one is off-register.
Words `wordfreq` does not know at all (zipf 0: misspellings, made-up names) say nothing.

The threshold was chosen on 40 hand-labelled items of General-Bench's Causal-Reasoning
(`tests/agents/register_labels.py`); `perf/everyday_register.py` prints the agreement.
The check applies only to subtasks whose own words name everyday life (`names_everyday`):
per item (`agents.item_checks`, check `register`, on what the item asks and offers), and per
sampled item at grounding (`agents.relevance`, on all the item presents: its passage or
dialogue too): a dataset is kept for such a subtask when at least `REGISTER_SHARE` of its
sampled items are in the register — the item check then picks its everyday items.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from wordfreq import zipf_frequency

from store.events import Subtask
from tools.stemming import stem

EVERYDAY_ZIPF = 3.3  # below it a word is rare: the best agreement with the hand labels
# Grounding keeps a dataset for an everyday subtask when at least this share of its sampled
# items is in the register: the item check then picks those (Causal-Reasoning: 0.2 of 40, a
# third by hand); below it, replenishing would draw through mostly technical items (NLI: 0).
REGISTER_SHARE = 0.1
MIN_WORD = 3  # shorter words are function words or abbreviations
_WORD = re.compile(r"[A-Za-z]+")  # "Jack's" is "jack" (and an "s" too short to count)
_EVERYDAY = re.compile(
    r"\b(?:every[- ]?day|daily|day[- ]to[- ]day|common[- ]life|ordinary life|real[- ]life|"
    r"common(?:place)? (?:events?|situations?|scenarios?)|household)\b", re.IGNORECASE)


def names_everyday(sub: Subtask) -> bool:
    """Whether the subtask's own words (name, description, capability) name everyday life."""
    return bool(_EVERYDAY.search(f"{sub.name} {sub.description} {sub.capability}"))


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """The Zipf frequency in English of the word or of its stem when that is a commoner
    word ("mangoes" 2.8, "mango" 3.6; "barked" 2.8, "bark" 3.9); 0 when `wordfreq` knows
    neither."""
    return float(max(zipf_frequency(word, "en"), zipf_frequency(stem(word), "en")))


def rare_words(text: str, threshold: float = EVERYDAY_ZIPF) -> list[tuple[str, float]]:
    """The known content words of `text` rarer than `threshold`, rarest first."""
    words = {w for w in _WORD.findall(text.lower()) if len(w) >= MIN_WORD} - ENGLISH_STOP_WORDS
    rare = [(w, z) for w in words if 0 < (z := zipf(w)) < threshold]
    return sorted(rare, key=lambda t: (t[1], t[0]))


def off_register(text: str, threshold: float = EVERYDAY_ZIPF) -> str:
    """Why `text` is not in the everyday register ("" when it is)."""
    rare = rare_words(text, threshold)
    if not rare:
        return ""
    said = ", ".join(f"{w!r} ({z:.2f})" for w, z in rare[:3])
    return f"rare words for everyday events: {said} (Zipf < {threshold:g})"
