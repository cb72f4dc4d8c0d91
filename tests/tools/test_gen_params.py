"""Shared parameter helpers of the generators: refitting a parameter, derived seeds."""

from __future__ import annotations

import random

import pytest

from tools.generators.base import ParamError, ParamSpec
from tools.generators.param_sampling import bound_pairs, derived_seed, ordered_bounds, refit


def test_refit_leaves_a_fitting_value_and_the_stream_alone() -> None:
    rng = random.Random(1)
    values = {"family": "simplify"}
    refit(values, frozenset({"family"}), "family", ["simplify", "factor"], rng, "x")
    assert values == {"family": "simplify"} and rng.random() == random.Random(1).random()


def test_refit_redraws_a_drawn_value_among_those_that_fit() -> None:
    picks = set()
    for seed in range(20):
        values = {"family": "linear"}
        refit(values, frozenset({"family"}), "family", ["simplify", "factor"],
              random.Random(seed), "x")
        again = {"family": "linear"}
        refit(again, frozenset({"family"}), "family", ["simplify", "factor"],
              random.Random(seed), "x")
        assert values == again
        picks.add(values["family"])
    assert picks == {"simplify", "factor"}


def test_refit_refuses_a_given_value_naming_what_fits() -> None:
    with pytest.raises(ParamError) as err:
        refit({"family": "linear"}, frozenset(), "family", ["simplify", "factor"],
              random.Random(0), "parameter mutation='sign_flip' cannot be planted in")
    assert str(err.value) == ("parameter mutation='sign_flip' cannot be planted in "
                              "family='linear'; it fits: simplify, factor")


def test_derived_seeds_are_stable_and_63_bits_fit_numpy() -> None:
    full = derived_seed("speech_dialogue", "noise", 3)
    assert full == derived_seed("speech_dialogue", "noise", 3) != derived_seed("x", 3)
    assert 0 <= full < 2**64
    assert derived_seed("speech_dialogue", "noise", 3, bits=63) == full >> 1 < 2**63


def spec(name: str, low: float, high: float, kind: str = "int") -> ParamSpec:
    return ParamSpec(name=name, kind=kind, low=low, high=high, description=name)


def test_a_pair_of_range_ends_is_told_by_its_names() -> None:
    specs = [spec("range_min", 1, 100), spec("range_max", 1, 100),
             spec("start_year", 2000, 2100), spec("end_year", 2000, 2100),
             spec("minutes", 0, 59), spec("max_words", 10, 300),
             ParamSpec(name="min_label", kind="choice", choices=["a", "b"], description="x"),
             ParamSpec(name="max_label", kind="choice", choices=["a", "b"], description="x")]
    assert bound_pairs(specs) == [("range_min", "range_max"), ("start_year", "end_year")]


def test_drawn_range_ends_are_put_in_order_given_ones_are_not() -> None:
    specs = [spec("range_min", 1, 100), spec("range_max", 1, 100), spec("words", 1, 9)]
    crossed = {"range_min": 85, "range_max": 5, "words": 3}
    both = frozenset({"range_min", "range_max", "words"})
    assert ordered_bounds(specs, crossed, both) == {"range_min": 5, "range_max": 85, "words": 3}
    assert ordered_bounds(specs, crossed, frozenset({"words"})) == crossed  # the user's own
    # Ends whose ranges differ are swapped only where each fits the other's range.
    narrow = [spec("range_min", 1, 10), spec("range_max", 50, 100)]
    assert ordered_bounds(narrow, {"range_min": 9, "range_max": 60}, both) == {
        "range_min": 9, "range_max": 60}
    odd = [spec("low_x", 60, 100), spec("high_x", 1, 70)]
    assert ordered_bounds(odd, {"low_x": 90, "high_x": 20}, frozenset({"low_x", "high_x"})) == {
        "low_x": 90, "high_x": 20}
