"""Faulty-step proofs: find the one invalid step of a multi-step algebraic derivation.

Three families of derivations (`proof_derivations`): simplifying a sum of
products (distribute, square, FOIL, group, combine), solving a linear
equation (expand, combine, move terms, divide) and factoring a quadratic by
splitting the middle term. Every step of the correct derivation is checked
exactly, then exactly one step is botched in a controlled way (sign flip,
dropped term, wrong coefficient, wrong distribution, a² + b² square error,
sign error when moving a term, multiplying instead of dividing); later steps
stay valid from the botched line. The answer is the faulty step's number.

Checks are exact polynomial identities in SymPy's sparse polynomial rings:
expressions must stay equal, equations equal up to a nonzero constant factor.
Parameters left out are drawn from their ranges with the seed; `mutation`
defaults to "any" fault that fits, `presentation` (what `render`'s default mode
shows: text, or a PNG of the derivation) to "text".
"""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path
from typing import Any

from tools.generators.base import (
    CheckResult,
    Instance,
    ParamError,
    ParamSpec,
    RenderedItem,
    Score,
)
from tools.generators.card_format import field, generator_card
from tools.generators.check_results import all_failed, complexity_check, failing
from tools.generators.named_options import hedged_score, named_options
from tools.generators.param_sampling import instance_rng, params_rng, refit, resolve_params
from tools.generators.proof_algebra import (
    Equation,
    Line,
    equivalent,
    line_from_json,
    line_json,
    line_poly,
    line_text,
)
from tools.generators.proof_derivations import (
    FAMILIES,
    FAMILY_KINDS,
    FAULT_KINDS,
    Plan,
    factor_quadratic_plan,
    invalid_steps,
    linear_equation_plan,
    run,
    simplify_plan,
)
from tools.generators.rendering import check_mode, instance_metadata
from tools.generators.text_image import text_png
from tools.workspace import Workspace

_MODES = ("default", "text", "image")
_ATTEMPTS = 40
_CANDIDATES = 12  # (step, fault) pairs tried per derivation

PARAMS: list[ParamSpec] = [
    ParamSpec(name="family", kind="choice", choices=list(FAMILIES),
              description="Kind of derivation: simplify an expression, solve a linear "
                          "equation, or factor a quadratic"),
    ParamSpec(name="n_terms", kind="int", low=2, high=5,
              description="simplify: number of products to expand (more steps)"),
    ParamSpec(name="variables", kind="int", low=1, high=2,
              description="simplify and factor_quadratic: x only, or x and y"),
    ParamSpec(name="max_coefficient", kind="int", low=2, high=12,
              description="Largest absolute value of a random coefficient"),
    ParamSpec(name="mutation", kind="choice", choices=["any", *FAULT_KINDS], default="any",
              description="The kind of error planted in one step (not drawn: 'any' fitting)"),
    ParamSpec(name="presentation", kind="choice", choices=["text", "image"], default="text",
              description="How render's default mode shows the derivation: in the text, or "
                          "as a PNG image"),
]

_GOALS = {
    "simplify": ("simplifies an algebraic expression", "is not equal to the line before it"),
    "linear_equation": ("solves a linear equation",
                        "is not equivalent to the equation before it"),
    "factor_quadratic": ("factors a quadratic expression", "is not equal to the line before it"),
}


def _plan(rng: random.Random, p: dict[str, Any]) -> Plan:
    if p["family"] == "simplify":
        return simplify_plan(rng, p["n_terms"], p["variables"], p["max_coefficient"])
    if p["family"] == "linear_equation":
        return linear_equation_plan(rng, p["max_coefficient"])
    return factor_quadratic_plan(rng, p["variables"], p["max_coefficient"])


def _complexity(n_steps: int) -> float:
    """1 − the chance of guessing the faulty step."""
    return 1.0 - 1.0 / n_steps


class ProofsGenerator:
    """Faulty-step proofs: which step of this derivation is wrong?"""

    name = "proofs"
    version = "1.0"
    params = PARAMS

    def card(self) -> dict[str, Any]:
        return generator_card(
            self,
            title="Faulty-step algebraic proofs (procedural)",
            modalities=["text", "image"],
            inputs=["text", "image"],
            description=(
                "Procedurally generated multi-step algebraic derivations (simplifying "
                "expressions, solving linear equations, factoring quadratics) in which exactly "
                "one step is wrong; the model must name the faulty step. Rendered as text or "
                "as an image of the derivation."
            ),
            card_text=(
                "Each item shows a start line and numbered steps, each with the operation it "
                "intends (expand, group, combine like terms, move a term, divide, split, "
                "factor). Exactly one step contains a planted error - sign flip, dropped term, "
                "wrong coefficient, wrong distribution, (a+b)^2 = a^2 + b^2, sign error when "
                "moving a term, multiplying instead of dividing - and later steps are valid "
                "from the wrong line. Every step is checked with exact polynomial arithmetic "
                "(SymPy). The answer is the step number. Tests step-by-step mathematical "
                "verification and error localisation, in text or from an image."
            ),
            tasks=["error_localization", "mathematical_reasoning", "question_answering",
                   "visual_question_answering"],
            domain="algebra, mathematical proof checking",
            fields={
                "question": field(
                    "input", "text",
                    "Instructions and, in text mode, the derivation itself: a start line and "
                    "numbered steps with their intended operation; asks for the number of the "
                    "faulty step.", style="instruction", extent="medium"),
                "image": field(
                    "media.0", "image",
                    "In image mode, a PNG of the derivation (start line and numbered steps).",
                    style="document"),
                "answer": field("target", "text",
                                "The number of the single faulty step, as a decimal string."),
            },
            structure=(
                "Each record has a question (input) with the derivation in text or, in image "
                "mode, a PNG of it (media), and the faulty step number (target); metadata "
                "holds the family, the planted fault and the complexity."
            ),
        )

    # -- sampling -----------------------------------------------------------------------------

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        draw = params_rng(self.name, seed)
        p, drawn = resolve_params(self.params, params, draw)
        fitting = [f for f in FAMILIES if p["mutation"] in ("any", *FAMILY_KINDS[f])]
        refit(p, drawn, "family", fitting, draw,
              f"parameter mutation={p['mutation']!r} cannot be planted in")
        rng = instance_rng(self.name, seed, p)
        for _ in range(_ATTEMPTS):
            plan = _plan(rng, p)
            correct = run(plan)
            assert correct is not None
            derivation = correct[0]
            if invalid_steps(derivation.lines):  # the plan itself must be sound
                raise AssertionError(f"unsound {plan.family} derivation for seed {seed}")
            for j, kind in self._candidates(rng, plan, derivation.op_index, p["mutation"]):
                result = run(plan, (j, kind), rng)
                if result is None:
                    continue
                faulty, intended = result
                step = faulty.op_index.index(j) + 1
                texts = [line_text(line) for line in faulty.lines]
                if any(a == b for a, b in zip(texts, texts[1:], strict=False)):
                    continue
                if invalid_steps(faulty.lines) != [step]:
                    continue
                assert intended is not None
                return self._instance(seed, p, plan.family, faulty, texts, step, kind, intended)
        raise ParamError(
            f"parameter mutation={p['mutation']!r}: no fitting step found in "
            f"{_ATTEMPTS} {p['family']!r} derivations"
        )

    def _candidates(self, rng: random.Random, plan: Plan, op_index: tuple[int, ...],
                    wanted: str) -> list[tuple[int, str]]:
        """(operation, fault) pairs to try: a random kind first, then a random step for it."""
        by_kind: dict[str, list[int]] = {}
        for j in op_index:
            for kind in plan.operations[j].kinds:
                if wanted in ("any", kind):
                    by_kind.setdefault(kind, []).append(j)
        kinds = sorted(by_kind)
        rng.shuffle(kinds)
        ordered: list[tuple[int, str]] = []
        for kind in kinds:
            steps = by_kind[kind]
            rng.shuffle(steps)
            ordered += [(j, kind) for j in steps[:3]]
        return ordered[:_CANDIDATES]

    def _instance(self, seed: int, p: dict[str, Any], family: str, faulty: Any,
                  texts: list[str], step: int, kind: str, intended: Line) -> Instance:
        content = {
            "family": family,
            "lines": [line_json(line) for line in faulty.lines],
            "texts": texts,
            "labels": list(faulty.labels),
            "fault": {
                "step": step,
                "kind": kind,
                "correct_line": line_json(intended),
                "correct_text": line_text(intended),
            },
        }
        return Instance(generator=self.name, seed=seed, params=p, content=content, answer=step,
                        complexity=_complexity(len(texts) - 1))

    # -- verification -------------------------------------------------------------------------

    def verify(self, instance: Instance) -> list[CheckResult]:
        c = instance.content
        try:
            lines = [line_from_json(x) for x in c["lines"]]
            fault = c["fault"]
            intended = line_from_json(fault["correct_line"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            return all_failed(f"content is not a derivation: {exc!r}")
        return [
            self._check_consistency(instance, lines),
            self._check_feasibility(lines, fault, intended),
            self._check_complexity(instance, len(lines) - 1),
        ]

    def _check_consistency(self, instance: Instance, lines: list[Line]) -> CheckResult:
        """Exactly one step is invalid, it is the answer, and the text shows these lines."""
        fail = failing("consistency")
        c = instance.content
        if len(lines) < 3:
            return fail(f"a derivation needs at least 2 steps, got {len(lines) - 1}")
        if len({isinstance(line, Equation) for line in lines}) != 1:
            return fail("lines mix expressions and equations")
        if [line_text(line) for line in lines] != c.get("texts"):
            return fail("displayed texts differ from the checked lines")
        if len(c.get("labels", [])) != len(lines) - 1:
            return fail("need one label per step")
        texts = c["texts"]
        if any(a == b for a, b in zip(texts, texts[1:], strict=False)):
            return fail("a step leaves its line unchanged")
        bad = invalid_steps(lines)
        if bad != [instance.answer] or c["fault"].get("step") != instance.answer:
            return fail(f"invalid steps {bad}, answer {instance.answer!r}, "
                        f"recorded fault step {c['fault'].get('step')!r}")
        return CheckResult(check="consistency", passed=True,
                           reason=f"exactly step {instance.answer} of {len(lines) - 1} is invalid")

    def _check_feasibility(self, lines: list[Line], fault: dict[str, Any],
                           intended: Line) -> CheckResult:
        """The error is a local, fixable one: the intended line follows from the line before."""
        step = fault.get("step")
        if not isinstance(step, int) or not 1 <= step < len(lines):
            return CheckResult(check="feasibility", passed=False,
                               reason=f"fault step {step!r} is not a step of the derivation")
        if fault.get("kind") not in FAULT_KINDS:
            return CheckResult(check="feasibility", passed=False,
                               reason=f"unknown fault kind {fault.get('kind')!r}")
        before = lines[step - 1]
        eq = isinstance(before, Equation)
        if isinstance(intended, Equation) != eq or not equivalent(
                line_poly(before), line_poly(intended), eq):
            return CheckResult(check="feasibility", passed=False,
                               reason=f"the recorded correction of step {step} does not follow "
                                      "from the line before it")
        if line_text(intended) == line_text(lines[step]):
            return CheckResult(check="feasibility", passed=False,
                               reason="the recorded correction equals the faulty line")
        return CheckResult(check="feasibility", passed=True,
                           reason=f"step {step} ({fault['kind']}) should read "
                                  f"{line_text(intended)!r}")

    def _check_complexity(self, instance: Instance, n_steps: int) -> CheckResult:
        want = _complexity(n_steps) if n_steps > 0 else 0.0
        return complexity_check(instance.complexity, want, f"1 - 1/steps, {n_steps} steps")

    # -- scoring ------------------------------------------------------------------------------

    def score(self, instance: Instance, answer: str) -> Score:
        named = parse_step_numbers(answer)
        truth = int(instance.answer)
        if not named:
            return Score(correct=False, score=0.0,
                         detail={"named": [], "expected": truth, "error": "no step number found"})
        return hedged_score(named, truth, {"named": named, "expected": truth,
                                           "fault_kind": instance.content["fault"]["kind"]})

    # -- rendering ----------------------------------------------------------------------------

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, _MODES)
        if mode == "default":
            mode = instance.params.get("presentation", "text")
        c = instance.content
        goal, invalid = _GOALS[c["family"]]
        lines = proof_lines(c["texts"], c["labels"])
        intro = (f"The derivation below {goal}. Each step names the operation it intends. "
                 f"Exactly one step contains an error: the line it produces {invalid}. ")
        ask = "Which step contains the error? Answer with the step number only."
        metadata = {
            **instance_metadata(self, instance),
            "family": c["family"],
            "fault_kind": c["fault"]["kind"],
            "n_steps": len(c["labels"]),
        }
        if mode == "image":
            png = text_png(lines)
            ref = Workspace(workspace).write_bytes(
                f"{self.name}/{hashlib.sha256(png).hexdigest()[:16]}.png", png)
            return RenderedItem(input=intro + "It is shown in the image.\n\n" + ask,
                                target=str(instance.answer), media=[ref], metadata=metadata)
        return RenderedItem(input=intro + "\n\n" + "\n".join(lines) + "\n\n" + ask,
                            target=str(instance.answer), metadata=metadata)


def proof_lines(texts: list[str], labels: list[str]) -> list[str]:
    """'Start: …' then 'Step k (label): …' — the same rows in text and image form."""
    rows = [f"Start: {texts[0]}"]
    rows += [f"Step {i} ({label}): {text}"
             for i, (label, text) in enumerate(zip(labels, texts[1:], strict=True), start=1)]
    return rows


_ANSWER_RE = re.compile(
    r"answer\s*(?:is|:)?\s*(?:step\s*)?(\d+(?:\s*(?:,|and|or|&)\s*(?:step\s*)?\d+)*)",
    re.IGNORECASE)
_STEP_RE = re.compile(r"step\s*#?\s*(\d+)", re.IGNORECASE)
_INT_RE = re.compile(r"\d+")


def parse_step_numbers(answer: str) -> list[int]:
    """The step numbers an answer names, in order, without repeats.

    An explicit "answer: …" wins; a short answer may be bare numbers or
    "step N"; in a longer text the last "step N" mention is taken.
    """
    found = named_options(answer, marked=_ANSWER_RE, option=_INT_RE, mention=_STEP_RE, short=40)
    return list(dict.fromkeys(int(f) for f in found))
