"""Answers and their option letters: the one module that reads a letter or normalises an
answer (the format check, realizing items and scoring all use it).

- `letter(i)`, `letter_of(label)`: option letters. A label reads as a letter when it is
  one letter, maybe in parentheses or followed by "." or ")" ("B", "(b)", "b." → "B").
- `chosen_letter(answer, choices)`: the option a free-form answer picks.
- `letter_shares(first_token_logprobs, n)`: how a one-letter answer's probability spreads
  over the options' letters.
- `normalize_answer(text)`: SQuAD-style normalisation, for comparing answers.
- `text_key(text)`: case and spacing folded, and nothing else: whether two texts are
  the same text (a label and an option, two distractors, an instruction and a question),
  where punctuation and articles still count.
"""

from __future__ import annotations

import math
import re
import string

_LETTER_LABEL = re.compile(r"^\(?([A-Za-z])\)?[.)]?$")
# In a free-form answer: a leading letter ("B", "(b) happy", "Answer: C.") or "answer is X".
_LEAD_LETTER = re.compile(r"^\s*(?:answer\s*[:is]*\s*)?\(?([A-Za-z])\)?(?=$|[.):,\s])", re.I)
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*\(?([A-Za-z])\)?(?=$|[.):,\s])", re.I)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPACE = re.compile(r"\s+")


def letter(index: int) -> str:
    """The letter of option `index` (0 → "A")."""
    return chr(ord("A") + index)


def letter_of(label: str) -> str | None:
    """The upper-case letter a label names ("(b)" → "B"), or None if it names none."""
    m = _LETTER_LABEL.match(label.strip())
    return m.group(1).upper() if m else None


def chosen_letter(answer: str, choices: list[str]) -> str | None:
    """The option a free-form answer picks: a leading letter, "answer is X", or a choice's text."""
    for pattern in (_LEAD_LETTER, _ANSWER_IS):
        m = pattern.search(answer.strip())
        if m and ord(m.group(1).upper()) - ord("A") < len(choices):
            return m.group(1).upper()
    said = normalize_answer(answer)
    matches = [i for i, c in enumerate(choices) if normalize_answer(c) == said]
    if len(matches) == 1:
        return letter(matches[0])
    return None


def letter_shares(first_token_logprobs: dict[str, float], n_options: int) -> dict[str, float]:
    """Each option letter's share of the probability the answer's first token puts on option
    letters ("B", " b", "(B" all count for B); empty when it puts none on any."""
    mass: dict[str, float] = {}
    for token, logprob in first_token_logprobs.items():
        named = letter_of(token.strip().lstrip("("))
        if named is not None and ord(named) - ord("A") < n_options:
            mass[named] = mass.get(named, 0.0) + math.exp(logprob)
    total = sum(mass.values())
    return {k: v / total for k, v in sorted(mass.items())} if total > 0 else {}


def normalize_answer(text: str) -> str:
    """Lowercase, no punctuation, no articles, single spaces (SQuAD-style)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def text_key(text: str) -> str:
    """The text with case and runs of spaces folded: equal keys, the same text."""
    return _SPACE.sub(" ", text.strip().lower())
