"""The numeric-range grammars of tools/llm/local_grammar.py, checked exhaustively.

The range expressions use a small GBNF subset (literals, [a-b] classes, {m,n}, groups,
alternation) that maps one-to-one onto Python regexes, so every integer of a window can be
checked against the bounds. The real model test (test_local_model.py) checks that llama.cpp
accepts the full grammars.
"""

from __future__ import annotations

import re

import pytest

from tools.llm import llama_env  # noqa: F401  (first: llama.cpp reads OMP_WAIT_POLICY on load)

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make local-runtime)")

from tools.llm.local_grammar import (  # noqa: E402
    integer_range,
    number_range,
    schema_to_gbnf,
    unenforced_keywords,
)


def _regex(gbnf: str) -> re.Pattern[str]:
    pattern = re.sub(r'"([^"]*)"', lambda m: re.escape(m.group(1)), gbnf)
    pattern = pattern.replace(" ", "").replace("(", "(?:")
    return re.compile(pattern)


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(1, 5), (0, 100), (-5, 5), (-120, -7), (37, 1024), (None, 10), (-3, None), (0, None),
     (None, -250), (None, None), (999, 1000), (7, 7)],
)  # fmt: skip
def test_integer_range_matches_exactly_the_integers_in_range(lo, hi) -> None:
    rx = _regex(integer_range(lo, hi))
    for v in range(-1500, 1500):
        inside = (lo is None or v >= lo) and (hi is None or v <= hi)
        assert bool(rx.fullmatch(str(v))) == inside, (lo, hi, v)
    assert not rx.fullmatch("007") and not rx.fullmatch("-0")
    if hi is None:
        assert rx.fullmatch("123456789012345") and not rx.fullmatch("1234567890123456")


@pytest.mark.parametrize(("lo", "hi"), [(0, 1), (-1, 1), (0, 100), (1, None), (None, 0), (-10, -2)])
def test_number_range_matches_decimals_in_range(lo, hi) -> None:
    rx = _regex(number_range(lo, hi))
    samples = [f"{sign}{i}{frac}" for sign in ("", "-") for i in range(0, 120)
               for frac in ("", ".0", ".00", ".5", ".25", ".999", ".001")]  # fmt: skip
    for text in samples:
        value = float(text)
        if value == 0 and text.startswith("-"):
            continue  # "-0" spellings may be refused: stricter than needed is fine
        inside = (lo is None or value >= lo) and (hi is None or value <= hi)
        assert bool(rx.fullmatch(text)) == inside, (lo, hi, text)


def test_schema_bounds_reach_the_grammar() -> None:
    gbnf = schema_to_gbnf(
        {
            "type": "object",
            "properties": {
                "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "name": {"type": "string", "maxLength": 40},
                "gap": {"type": "integer", "exclusiveMinimum": 0},
            },
            "required": ["stars", "score", "name", "gap"],
        }
    )
    rules = dict(line.split(" ::= ", 1) for line in gbnf.splitlines() if " ::= " in line)
    assert _regex(rules["stars"].removesuffix(" space")).fullmatch("5")
    assert not _regex(rules["stars"].removesuffix(" space")).fullmatch("6")
    assert "char{0,40}" in rules["name"]
    assert not _regex(rules["gap"].removesuffix(" space")).fullmatch("0")


def test_unenforced_keywords_are_named() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "ratio": {"type": "number", "minimum": 0.5},
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "when": {"type": "string", "format": "date"},
            "mail": {"type": "string", "format": "email"},
        },
    }
    assert unenforced_keywords(schema) == {"uniqueItems", "minimum", "format"}
    assert unenforced_keywords({"type": "integer", "minimum": 0, "maximum": 9}) == set()


# ------------------------------------------------------------------ in llama.cpp itself


@pytest.fixture(scope="module")
def vocab_model():
    """The 0.5B model's vocabulary only (no weights): enough to run llama.cpp's grammar."""
    from llama_cpp import Llama

    from tools.llm.local_models import TEST_LOCAL_MODEL
    from tools.llm.weights import model_path

    llama = Llama(model_path=str(model_path(TEST_LOCAL_MODEL)), vocab_only=True, verbose=False)
    yield llama
    llama.close()


def _grammar_allows(llama, gbnf: str, prefix: str, candidate: str) -> bool:
    """Does llama.cpp's grammar sampler allow `candidate` (one token) after `prefix`?"""
    import ctypes

    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(llama._model.vocab, gbnf.encode(), b"root")
    assert sampler, "llama.cpp rejected the grammar"

    def allowed(token: int) -> bool:
        data = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
        array = llama_cpp.llama_token_data_array(data=data, size=1, selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        return data[0].logit != float("-inf")

    try:
        for token in llama.tokenize(prefix.encode(), add_bos=False, special=False):
            assert allowed(token), f"prefix token {llama.detokenize([token])!r} refused"
            llama_cpp.llama_sampler_accept(sampler, token)
        (token,) = llama.tokenize(candidate.encode(), add_bos=False, special=False)
        return allowed(token)
    finally:
        llama_cpp.llama_sampler_free(sampler)


@pytest.mark.local_model
def test_llama_cpp_enforces_bounds_and_json_strings(vocab_model) -> None:
    gbnf = schema_to_gbnf(
        {
            "type": "object",
            "properties": {
                "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                "note": {"type": "string"},
            },
            "required": ["stars", "note"],
        }
    )
    assert _grammar_allows(vocab_model, gbnf, '{"stars": ', "5")
    assert not _grammar_allows(vocab_model, gbnf, '{"stars": ', "6")
    assert not _grammar_allows(vocab_model, gbnf, '{"stars": ', "0")
    assert not _grammar_allows(vocab_model, gbnf, '{"stars": 5', "0")
    assert _grammar_allows(vocab_model, gbnf, '{"stars": 5, "note": "a', " b")
    assert not _grammar_allows(vocab_model, gbnf, '{"stars": 5, "note": "a', "\n")
    assert _grammar_allows(vocab_model, gbnf, '{"stars": 5, "note": "a', "\\n")
