"""The second stage of checking a generator: K rendered items, as a model under test sees them.

The host samples and renders K items in the sandbox and checks that the module's own
`checks()` report every check the plan names and that a question without media shows at
least one of its problem's values; then the model judges the items for clarity,
completeness and consistency (BenchAgents' V-Agent model-based checks), one item per request,
and, where the metric has one right answer, answers the easiest item without its target: the
module's own scorer must accept that answer (`blind_answer`).
Every failure is a line of feedback for the model's next attempt; a failing verdict that
says nothing is missing or wrong (the small models' rote answer) does not count.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from agents.prompts.common import clip
from agents.prompts.synthesis import ITEM_CHECKS, VERDICTS
from agents.synthesis.plan import CHECK_BUDGETS, param_specs
from store.events import GeneratorPlan, SynthesisCheck
from tools.sandbox.synthesized import GeneratedCodeError, SynthesizedGenerator

FIRST_SEED = 1000  # item seeds follow the checker's 0..K-1, so these are unseen instances
BLIND_ANSWER = "blind_answer"
# Metrics with one right answer: a model's blind answer the code rejects is worth a look.
# Under `accepts` (writing that follows rules) a small model's miss says nothing of the code.
BLIND_METRICS = ("exact_match", "multiple_choice")


class RenderedSample(msgspec.Struct, frozen=True, kw_only=True):
    seed: int
    question: str
    choices: list[str] | None
    answer: str
    params: dict[str, Any]
    complexity: float = 0.0


class BlindAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A model's answer to a rendered item it saw without the target, as the code scored it."""

    sample: RenderedSample
    response: str
    correct: bool
    error: str = ""  # the module's scorer raised on the answer (it must take any text)
    # a second answer, sampled, that the code rejected too but that differs from the first:
    # the solver is not sure, so the disagreement says nothing about the code
    unconfirmed: str = ""


def easiest(samples: list[RenderedSample]) -> RenderedSample | None:
    return min(samples, key=lambda s: (s.complexity, s.seed)) if samples else None


def score_blind(plan: GeneratorPlan, source: str, sample: RenderedSample,
                response: str) -> BlindAnswer:
    """The generator's own scorer on a model's blind answer to one of its rendered items."""
    with SynthesizedGenerator(plan.name, source, params=param_specs(plan.params),
                              budgets=CHECK_BUDGETS) as gen:
        instance = gen.sample(sample.seed, dict(sample.params))
        try:
            correct = gen.score(instance, response).correct
        except GeneratedCodeError as exc:
            return BlindAnswer(sample=sample, response=response, correct=False, error=str(exc))
    return BlindAnswer(sample=sample, response=response, correct=correct)


def render_samples(plan: GeneratorPlan, source: str,
                   n: int) -> tuple[list[RenderedSample], list[str]]:
    """K items rendered in the sandbox, and the host's findings (planned checks missing from
    what `checks()` reports, or a call that failed)."""
    samples: list[RenderedSample] = []
    problems: list[str] = []
    planned = {c.name for c in plan.checks}
    gen = SynthesizedGenerator(plan.name, source, params=param_specs(plan.params),
                               budgets=CHECK_BUDGETS)
    try:
        with tempfile.TemporaryDirectory(prefix="benchagent-synth-") as tmp:
            for seed in range(FIRST_SEED, FIRST_SEED + n):
                try:
                    instance = gen.sample(seed)
                    rendered = gen.render(instance, Path(tmp))
                    reported = {r.check for r in gen.verify(instance)}
                except (GeneratedCodeError, ValueError) as exc:
                    problems.append(f"seed {seed}: {exc}")
                    continue
                missing = sorted(planned - reported)
                if missing:
                    problems.append(f"seed {seed}: checks() does not report the planned "
                                    f"check{'s' if len(missing) > 1 else ''} "
                                    + ", ".join(missing) + ": fix checks()")
                problem = instance.content.get("problem")
                unseen = unseen_values(problem, rendered.input)
                if unseen and not rendered.media:
                    key = next(iter(problem)) if isinstance(problem, dict) and problem else "x"
                    problems.append(f"seed {seed}: the question shows none of the problem's "
                                    f"values ({unseen}), so it cannot be answered: fix "
                                    "question() to put them in its text, e.g. f\"... "
                                    f"{{problem[{key!r}]}} ...\"")
                if not rendered.choices and shows_answer(rendered.target, rendered.input):
                    problems.append(f"seed {seed}: the question shows its own answer "
                                    f"{rendered.target!r}: fix question() to show the "
                                    "problem's values, not what solve() computes from them")
                samples.append(RenderedSample(seed=seed, question=rendered.input,
                                              choices=rendered.choices, answer=rendered.target,
                                              params=instance.params,
                                              complexity=instance.complexity))
    finally:
        gen.close()
    return samples, problems


def unseen_values(problem: Any, question: str) -> str:
    """The problem's values, when the question shows none of them ("" if it shows one, or
    the problem has none): a question without its values cannot be answered ("Convert the
    given number of seconds into hours, minutes and seconds.")."""
    values = [(k, v) for k, v in _leaves(problem)
              if isinstance(v, int | float | str) and not isinstance(v, bool) and str(v)]
    if not values or any(_shown(v, question) for _, v in values):
        return ""
    return ", ".join(f"{k}={v!r}" for k, v in values[:4])


def shows_answer(answer: str, question: str) -> bool:
    """Whether a free-form item's question states its answer word for word ("Convert 0 hours,
    2 minutes, 7 seconds …" → "0 hours, 2 minutes, 7 seconds"). Only an answer of two words
    or more: one number or word may rightly be one of the values shown ("the largest of 3, 9
    and 4"; a change in coins computed wrongly as the amount itself, whose fix is in solve)."""
    answer = answer.strip()
    return len(re.findall(r"\w+", answer)) >= 2 and _shown(answer, question)


def _leaves(value: Any, key: str = "problem") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, str(k))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v, key)]
    return [(key, value)]


def _shown(value: int | float | str, question: str) -> bool:
    """Whether the question says the value, as a whole word or number ("s" is not in "seconds")."""
    said = {str(value)}
    if isinstance(value, float):
        said |= {f"{value:g}", f"{value:.2f}", f"{value:.1f}"}
    return any(re.search(r"(?<![\w.])" + re.escape(v.lower()) + r"(?![\w])", question.lower())
               for v in said)


def judge_items(samples: list[RenderedSample]) -> list[dict[str, Any]]:
    """The items as the judge reads them (one per request)."""
    return [{"question": clip(s.question, 700), "choices": s.choices,
             "answer": clip(s.answer, 300), "parameters": s.params} for s in samples]


_NOTHING = ("nothing", "none", "no issue", "no problem", "n/a", "not applicable")


def failed_check(verdict: dict[str, Any]) -> tuple[str | None, str]:
    """The check a judge's verdict fails, with its reason; None when it passes — or when it
    names a failure but says nothing is missing or wrong (the small models' rote answer)."""
    reason = " ".join(str(verdict.get("missing_or_wrong", "")).split())[:200]
    check = VERDICTS.get(str(verdict.get("verdict", "fine")))
    said = reason.lower().strip(" .!")
    if check is None or len(said.split()) < 2 or said in _NOTHING:
        return None, reason
    return check, reason


def item_verdicts(samples: list[RenderedSample], host_problems: list[str],
                  judged: list[dict[str, Any]], blind: BlindAnswer | None = None,
                  ) -> tuple[list[SynthesisCheck], list[str]]:
    """The stage's checks and its failures as feedback lines."""
    failures: dict[str, list[str]] = {name: [] for name in ITEM_CHECKS}
    for n, (sample, verdict) in enumerate(zip(samples, judged, strict=False)):
        check, reason = failed_check(verdict)
        if check is not None:
            failures[check].append(f"item {n + 1} (seed {sample.seed}): {check}: {reason}")
    checks = [SynthesisCheck(
        check="planned_checks", status="failed" if host_problems else "passed",
        summary=f"{len(host_problems)} problems" if host_problems
        else f"checks() reports every planned check on {len(samples)} items")]
    for name in ITEM_CHECKS:
        bad = failures[name]
        checks.append(SynthesisCheck(
            check=name, status="failed" if bad else ("passed" if judged else "skipped"),
            summary=f"{len(bad)} of {len(samples)} items fail" if bad
            else (f"{len(samples)} items pass" if judged else "no item to judge")))
    lines = [f"- planned_checks: {p}" for p in host_problems]
    lines += [f"- {line}" for name in ITEM_CHECKS for line in failures[name]]
    if blind is not None and blind.unconfirmed:
        n = samples.index(blind.sample) + 1
        checks.append(SynthesisCheck(
            check=BLIND_ANSWER, status="passed",
            summary=f"item {n}, answered without its target: inconclusive, "
                    f"{clip(blind.response, 40)!r} then {clip(blind.unconfirmed, 40)!r}, the "
                    f"code says {clip(blind.sample.answer, 40)!r}"))
    elif blind is not None:
        n = samples.index(blind.sample) + 1
        checks.append(SynthesisCheck(
            check=BLIND_ANSWER, status="passed" if blind.correct else "failed",
            summary=f"item {n}, answered without its target: "
                    + ("the code's scorer accepts the answer" if blind.correct else
                       (f"scoring it raised ({clip(blind.error, 60)})" if blind.error else
                        f"{clip(blind.response, 60)!r}, the code says "
                        f"{clip(blind.sample.answer, 60)!r}"))))
        if blind.error:
            lines.append(
                f"- {BLIND_ANSWER}: scoring a model's answer {clip(blind.response, 80)!r} to "
                f"item {n} raised: {clip(blind.error, 200)}. The scorer must take any text "
                "and say whether it is right")
        elif not blind.correct and not blind.unconfirmed:
            lines.append(
                f"- {BLIND_ANSWER}: item {n} (seed {blind.sample.seed}) answered by a model "
                f"that did not see the target: {clip(blind.response, 120)!r}; the code's "
                f"answer is {clip(blind.sample.answer, 120)!r}. Check that solve() computes "
                "exactly what question() asks, in the units and format it names")
    return checks, lines
