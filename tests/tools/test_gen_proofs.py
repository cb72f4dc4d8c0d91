"""Faulty-step proofs: exactly one invalid step, checked exactly and independently."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sympy
from PIL import Image
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from tools.cards import DatasetCard, parse_card
from tools.generators.base import Instance, ParamError
from tools.generators.proof_algebra import line_from_json, line_json, line_text
from tools.generators.proof_derivations import FAMILY_KINDS
from tools.generators.proofs import ProofsGenerator, parse_step_numbers

GEN = ProofsGenerator()
_TRANSFORMS = (*standard_transformations, implicit_multiplication_application, convert_xor)
X, Y = sympy.symbols("x y")


def sympy_line(text: str) -> Any:
    """Parse a displayed line with SymPy's own parser (independent of proof_algebra)."""
    if "=" in text:
        lhs, rhs = text.split("=")
        return sympy.Eq(parse_expr(lhs, transformations=_TRANSFORMS),
                        parse_expr(rhs, transformations=_TRANSFORMS))
    return parse_expr(text, transformations=_TRANSFORMS)


def sympy_valid(before: Any, after: Any) -> bool:
    if isinstance(before, sympy.Equality):
        return set(sympy.solve(before, X)) == set(sympy.solve(after, X))
    return sympy.expand(before - after) == 0


def sympy_invalid_steps(texts: list[str]) -> list[int]:
    parsed = [sympy_line(t) for t in texts]
    return [i for i in range(1, len(parsed)) if not sympy_valid(parsed[i - 1], parsed[i])]


# -- generation ---------------------------------------------------------------------------------


CASES = [(family, kind) for family, kinds in FAMILY_KINDS.items() for kind in kinds]


@pytest.mark.parametrize(("family", "kind"), CASES)
def test_each_family_and_fault_gives_exactly_one_invalid_step(family: str, kind: str) -> None:
    for seed in range(3):
        inst = GEN.sample(seed, {"family": family, "mutation": kind})
        assert inst.content["family"] == family and inst.content["fault"]["kind"] == kind
        assert all(c.passed for c in GEN.verify(inst)), GEN.verify(inst)
        # SymPy's parser and solver, on the displayed text, agree on the one faulty step.
        assert sympy_invalid_steps(inst.content["texts"]) == [inst.answer]
        step = inst.answer
        fixed = sympy_line(inst.content["fault"]["correct_text"])
        assert sympy_valid(sympy_line(inst.content["texts"][step - 1]), fixed)


def test_drawn_parameters_cover_every_family_and_pass_verification() -> None:
    families = set()
    for seed in range(60):
        inst = GEN.sample(seed)
        families.add(inst.content["family"])
        assert all(c.passed for c in GEN.verify(inst)), seed
        assert 1 <= inst.answer <= len(inst.content["labels"])
    assert families == set(FAMILY_KINDS)


def test_simplify_steps_grow_with_the_number_of_products() -> None:
    few = GEN.sample(1, {"family": "simplify", "n_terms": 2, "mutation": "sign_flip"})
    many = GEN.sample(1, {"family": "simplify", "n_terms": 5, "mutation": "sign_flip"})
    assert len(many.content["labels"]) > len(few.content["labels"])
    assert many.complexity > few.complexity
    assert many.complexity == pytest.approx(1 - 1 / len(many.content["labels"]))


def test_two_variable_derivations_use_y() -> None:
    inst = GEN.sample(2, {"family": "factor_quadratic", "variables": 2})
    assert "y" in inst.content["texts"][0]


def test_json_form_round_trips() -> None:
    inst = GEN.sample(4, {"family": "linear_equation"})
    for data, text in zip(inst.content["lines"], inst.content["texts"], strict=True):
        line = line_from_json(data)
        assert line_text(line) == text and line_json(line) == data


# -- determinism and parameters -----------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_including_the_png(tmp_path: Path) -> None:
    a, b = GEN.sample(9), GEN.sample(9)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    one = GEN.render(a, tmp_path / "one", mode="image")
    two = GEN.render(b, tmp_path / "two", mode="image")
    assert one.media == two.media and len(one.media) == 1
    png = (tmp_path / "one" / one.media[0]).read_bytes()
    assert png == (tmp_path / "two" / two.media[0]).read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 200 and image.height > 60
    assert msgspec.json.encode(GEN.sample(10)) != msgspec.json.encode(a)


def test_resolved_params_reproduce_the_instance() -> None:
    for seed in range(10):
        inst = GEN.sample(seed, {"mutation": "wrong_operation"} if seed % 3 == 0 else None)
        params = msgspec.json.decode(msgspec.json.encode(inst.params))
        assert GEN.sample(seed, params) == inst


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"family": "geometry"}, "family"),
        ({"n_terms": 6}, "n_terms"),
        ({"n_terms": 1}, "[2, 5]"),
        ({"max_coefficient": 1}, "max_coefficient"),
        ({"variables": 3}, "variables"),
        ({"mutation": "typo"}, "mutation"),
        ({"presentation": "audio"}, "presentation"),
        ({"steps": 4}, "unknown parameter 'steps'"),
        ({"family": "factor_quadratic", "mutation": "dropped_term"}, "it fits: simplify"),
    ],
)
def test_out_of_range_params_are_refused_by_name(params: dict[str, Any], needle: str) -> None:
    with pytest.raises(ParamError) as err:
        GEN.sample(0, params)
    assert needle in str(err.value)


def test_a_fault_kind_picks_a_family_that_fits_when_family_is_drawn() -> None:
    inst = GEN.sample(5, {"mutation": "square_error"})
    assert inst.params["family"] == "simplify" and inst.content["fault"]["kind"] == "square_error"


# -- verification checks catch planted bad instances ----------------------------------------


def _content(inst: Instance) -> dict[str, Any]:
    return msgspec.json.decode(msgspec.json.encode(inst.content))


def test_consistency_check_catches_a_second_faulty_step_and_a_wrong_answer() -> None:
    for family in FAMILY_KINDS:
        inst = GEN.sample(3, {"family": family})
        assert GEN.verify(inst)[0].passed
        # Plant a second error: a stray constant added to a line of another step.
        content = _content(inst)
        other = 1 if inst.answer != 1 else 2
        line = content["lines"][other]
        terms = line["lhs"] if isinstance(line, dict) else line
        terms.append(["m", 1000, []])
        content["texts"][other] = line_text(line_from_json(line))
        two = GEN.verify(msgspec.structs.replace(inst, content=content))[0]
        assert not two.passed and "invalid steps" in two.reason, family
        wrong = GEN.verify(msgspec.structs.replace(inst, answer=other))[0]
        assert not wrong.passed and f"answer {other}" in wrong.reason


def test_consistency_check_catches_text_that_differs_from_the_checked_lines() -> None:
    inst = GEN.sample(6)
    content = _content(inst)
    content["texts"][0] = content["texts"][0] + " + 1"
    bad = GEN.verify(msgspec.structs.replace(inst, content=content))[0]
    assert not bad.passed and "texts differ" in bad.reason


def test_feasibility_check_catches_a_correction_that_is_also_wrong() -> None:
    inst = GEN.sample(7)
    assert GEN.verify(inst)[1].passed
    content = _content(inst)
    content["fault"]["correct_line"] = content["lines"][inst.answer]  # the faulty line itself
    bad = GEN.verify(msgspec.structs.replace(inst, content=content))[1]
    assert not bad.passed and "does not follow" in bad.reason


def test_complexity_check_catches_a_wrong_complexity() -> None:
    inst = GEN.sample(8)
    bad = GEN.verify(msgspec.structs.replace(inst, complexity=0.1))[2]
    assert not bad.passed and "recomputed" in bad.reason


def test_malformed_content_fails_every_check() -> None:
    inst = GEN.sample(8)
    content = _content(inst)
    content["lines"][1] = [["q", 1, []]]
    assert [c.passed for c in GEN.verify(msgspec.structs.replace(inst, content=content))] == [
        False, False, False]


# -- the scorer ---------------------------------------------------------------------------------


def test_scorer_on_right_wrong_and_partly_right_answers() -> None:
    inst = GEN.sample(12, {"family": "linear_equation"})
    right, other = inst.answer, 1 if inst.answer != 1 else 2
    for answer in (f"{right}", f"Step {right}", f"The answer is step {right}.",
                   f"Checking each line... step {other} is fine. Step {right} is wrong."):
        score = GEN.score(inst, answer)
        assert score.correct and score.score == 1.0, answer
    wrong = GEN.score(inst, f"{other}")
    assert not wrong.correct and wrong.score == 0.0
    hedged = GEN.score(inst, f"Answer: step {other} or step {right}")
    assert not hedged.correct and hedged.score == 0.5
    assert GEN.score(inst, "I am not sure").score == 0.0


def test_step_number_parser() -> None:
    assert parse_step_numbers("3") == [3]
    assert parse_step_numbers("Steps 2, 4") == [2, 4]
    assert parse_step_numbers("answer: 5") == [5]
    assert parse_step_numbers("x" * 50 + " step 2 looks fine, step 6 is the culprit") == [6]


# -- rendering and card -------------------------------------------------------------------------


def test_text_rendering_lists_every_step(tmp_path: Path) -> None:
    inst = GEN.sample(13)
    item = GEN.render(inst, tmp_path)
    assert item.target == str(inst.answer) and item.media == []
    assert f"Start: {inst.content['texts'][0]}" in item.input
    for i, (label, text) in enumerate(zip(inst.content["labels"], inst.content["texts"][1:],
                                          strict=True), start=1):
        assert f"Step {i} ({label}): {text}" in item.input
    assert list(tmp_path.iterdir()) == []


def test_image_presentation_writes_a_png_in_the_workspace(tmp_path: Path) -> None:
    inst = GEN.sample(14, {"presentation": "image"})
    item = GEN.render(inst, tmp_path)
    assert len(item.media) == 1 and not Path(item.media[0]).is_absolute()
    assert (tmp_path / item.media[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert inst.content["texts"][1] not in item.input  # the proof is only in the image
    with pytest.raises(ParamError, match="render mode"):
        GEN.render(inst, tmp_path, mode="audio")


def test_card_is_a_pool_card() -> None:
    card = parse_card("gen-proofs", GEN.card())
    assert isinstance(card, DatasetCard) and card.generator == "proofs"
    assert card.dataset_id == "gen-proofs" and "image" in card.media_roles()
