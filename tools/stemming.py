"""English stems (Snowball), cached per word.

The pure-Python stemmer costs ~0.1 ms a word, and the same words recur across an item's
checks, the questions Grounding samples and the cards the search indexes: each word is
stemmed once per process. One stemmer per thread (a Snowball stemmer keeps its current
word in itself; the Orchestrator realizes generator instances in a worker thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import snowballstemmer

_local = threading.local()


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of one (lower-case) word."""
    return str(_stemmer().stemWord(word))


def stem_words(words: Iterable[str]) -> list[str]:
    """Each word's stem, in order."""
    return [stem(w) for w in words]
