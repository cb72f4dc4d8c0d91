"""Scoring continuations on the real embedded model (`continuations` requests): the option a
reader would pick fills a dialogue's blank likeliest, the scores repeat exactly, a
continuation longer than a prompt chunk is scored, and a generation after scoring is the one
a fresh context gives (scoring leaves the shared context in a state the next call can use)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tools.llm import llama_env  # noqa: F401  (first: llama.cpp must see OMP_WAIT_POLICY)

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make local-runtime)")

from autogen_core.models import UserMessage  # noqa: E402

from tools.llm.local import make_local_client, unload_local_model  # noqa: E402
from tools.llm.local_models import TEST_LOCAL_MODEL  # noqa: E402

pytestmark = pytest.mark.local_model

# From a temporal build's dialogue items: the 1.5B's letter answer missed this one.
BEFORE = ("Read the context, then answer the question.\n\nContext:\nA:Hey , Ann . Wake up . "
          "It's time to get out of bed . B: Oh , Dad . Do I have to get up right now ? A: Yes "
          ", or you'll be late . B: Why didn't my alarm go off today ? A: It went off")
OPTIONS = [" about five years .", " 30 minutes ago .", " the two months .", " 20th May 1963 ."]


async def score(before: str, continuations: list[str]) -> list[float]:
    client = make_local_client(TEST_LOCAL_MODEL)
    result = await client.create([UserMessage(content=before, source="u")],
                                 extra_create_args={"continuations": continuations})
    assert isinstance(result.content, str)
    return [float(x) for x in json.loads(result.content)]


async def answer(question: str) -> str:
    client = make_local_client(TEST_LOCAL_MODEL)
    result = await client.create([UserMessage(content=question, source="u")],
                                 extra_create_args={"max_tokens": 12})
    assert isinstance(result.content, str)
    return result.content


def test_the_option_a_reader_picks_fills_the_blank_likeliest_and_scores_repeat() -> None:
    scores = asyncio.run(score(BEFORE, OPTIONS))
    assert len(scores) == 4 and all(s < 0 for s in scores)
    assert scores.index(max(scores)) == 1
    assert max(scores) > sorted(scores)[-2] + 5  # not by a hair
    assert asyncio.run(score(BEFORE, OPTIONS)) == scores  # the live context reused: same


def test_a_long_continuation_is_scored_and_the_next_generation_is_unchanged() -> None:
    question = "Name one colour of the sky, in one word."
    unload_local_model(TEST_LOCAL_MODEL)
    fresh = asyncio.run(answer(question))
    long_tail = " It rang at seven , and again at ten past seven , and then I gave up ." * 8
    scores = asyncio.run(score(BEFORE, [" 30 minutes ago ." + long_tail, " 30 minutes ago ."]))
    assert scores[0] < scores[1] < 0  # more text, less likely: every token was counted
    assert asyncio.run(answer(question)) == fresh
