"""Shared parameter helpers of the generators: refitting a parameter, derived seeds."""

from __future__ import annotations

import random

import pytest

from tools.generators.base import ParamError
from tools.generators.param_sampling import derived_seed, refit


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
