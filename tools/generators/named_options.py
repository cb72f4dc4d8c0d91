"""Which options an answer names (letters, step numbers), and the credit it earns.

An explicit "answer ..." wins; a short answer may simply list options; in a
longer text only the last mention counts. Naming several options earns a
share of the credit when one of them is right, and is never fully correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tools.generators.base import Score


def named_options(
    answer: str, *, marked: re.Pattern[str], option: re.Pattern[str],
    mention: re.Pattern[str], short: int, fold_short: Callable[[str], str] = str,
) -> list[str]:
    """The options named, in order, without repeats.

    `marked` finds an explicit answer (its group 1 holds the options), `option`
    finds options in it or in a short answer (at most `short` characters,
    passed through `fold_short` first), and `mention` finds the options a longer
    text mentions, of which the last one counts.
    """
    marks = list(marked.finditer(answer))
    if marks:
        found = option.findall(marks[-1].group(1))
    elif len(answer.strip()) <= short:
        found = option.findall(fold_short(answer))
    else:
        found = mention.findall(answer)[-1:]
    return list(dict.fromkeys(found))


def hedged_score(named: list[Any], truth: Any, detail: dict[str, Any]) -> Score:
    """Correct only when `truth` alone is named; a share 1/len(named) when it is among them."""
    value = 1.0 / len(named) if truth in named else 0.0
    return Score(correct=named == [truth], score=value, detail=detail)
