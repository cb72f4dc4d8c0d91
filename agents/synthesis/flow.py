"""The rounds of synthesis: plan, parts, sandboxed checks, item checks, feedback, again.

`Synthesizer` works for one event (the design round's `DesignAccepted`, or the developer's
`SpecApproved`) and records its work as it goes, caused by that event:
`GeneratorPlanned`, then per attempt `GeneratorDrafted` and one `GeneratorChecked` per stage
reached (code; items). They are work in progress (`store.events.WORK_IN_PROGRESS`): the
decision is the `GeneratorSynthesized` the caller emits, or the failure it reports. Model
answers are recorded calls and the checks are deterministic, so a handler re-run after a
crash pays no model call twice and records the same events (deduplicated by key).
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import structlog

from agents.answers import normalize_answer
from agents.base import LLM, AgentContext
from agents.prompts import synthesis as prompts
from agents.settings import RunSettings
from agents.synthesis.item_checks import (
    BLIND_METRICS,
    BlindAnswer,
    RenderedSample,
    easiest,
    failed_check,
    item_verdicts,
    judge_items,
    render_samples,
    score_blind,
)
from agents.synthesis.parts import (
    code_from_answer,
    failing_function,
    parts_problem,
    renamed_params,
    reported_lines,
    spliced,
    with_imports,
    with_unpacked,
)
from agents.synthesis.plan import (
    PlanError,
    check_plan,
    off_target,
    param_specs,
    plan_from_answer,
)
from store.events import (
    Author,
    Envelope,
    GeneratorChecked,
    GeneratorDrafted,
    GeneratorPlan,
    GeneratorPlanned,
    GeneratorSynthesized,
    Payload,
    PlannedParam,
    Subtask,
    SynthesisCheck,
)
from tools.generators.param_sampling import corner_value
from tools.sandbox.allowlist import parse
from tools.sandbox.checks import CORNER_SEEDS, GeneratorCheckReport, check_generator
from tools.sandbox.template import compose

log = structlog.get_logger(__name__)

PLAN_ATTEMPTS = 2  # a refused plan is asked for once more, with the reason
RESAMPLE_TEMPERATURE = 0.8  # the code attempt after a repeat samples instead of greedy


# One check at a time per process, off the event loop: each starts sandboxes that would
# only contend for the same cores. (Parsing on the event loop meanwhile is safe:
# every parse of generated code takes `allowlist.AST_LOCK`.)
_CHECK_LOCK = threading.Lock()
T = TypeVar("T")


async def _checking(function: Callable[..., T], *args: Any) -> T:
    def run() -> T:
        with _CHECK_LOCK:
            return function(*args)

    return await asyncio.to_thread(run)


class SynthesisResult(msgspec.Struct, frozen=True, kw_only=True):
    record: GeneratorSynthesized | None  # None: no attempt passed
    reason: str  # how it passed, or why it failed (one line)
    attempts: int = 0
    # Why the plan, more than the code, is at fault for the last attempt's failure ("" if
    # not): complexity did not spread over its ranges, or the code fails only at the
    # ranges' corners. `last_parts` may then serve a revised plan.
    plan_problem: str = ""
    last_parts: str = ""


def first_line(text: str, limit: int = 240) -> str:
    line = next((ln.strip(" -") for ln in text.splitlines() if ln.strip(" -")), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


_KEY_ERROR = re.compile(r"KeyError: '([^']*)'")
_CORNER_FAILURE = re.compile(r"^\s+seed ([01])\b", re.M)
_FAILED_CHECK = re.compile(r"^- (\w+): \d+ failures?\b", re.M)
_OWN_COMPLEXITY = re.compile(r"^def complexity\(", re.M)
_RANDOM_MODULE = re.compile(r"\brandom\.(?!Random\b)[a-z_]+\(")


def with_hints(feedback: str, plan: GeneratorPlan, parts: str, *, repeated: bool) -> str:
    """The checker's feedback, with what a small model most often misses said plainly: a
    parameter name that is not the plan's (copied from the example), the `random` module
    used instead of `rng` (so the same seed gives another problem), the line that raised
    (the report has only its number), or the same code sent again (at temperature 0 the
    same request would get the same answer)."""
    if not feedback:
        return feedback
    hints = []
    names = [p.name for p in plan.params]
    missing = sorted({k for k in _KEY_ERROR.findall(feedback) if k not in names})
    if missing:
        hints.append(f"- params has no key {', '.join(map(repr, missing))}: its keys are "
                     + (", ".join(map(repr, names)) or "none"))
    if "- deterministic:" in feedback and _RANDOM_MODULE.search(parts):
        if "solve" in functions_using_random(parts):
            # The 1.5B read "compute from problem" as "draw an answer".
            hints.append("- solve(problem) computes the one right answer from the values in "
                         "problem, with no randomness: fix solve()")
        else:
            hints.append("- draw every random value with rng (the random.Random make_problem "
                         "gets), never with the random module")
    if "must return a dict" in feedback:
        hints.append("- make_problem returns a plain dict, as the skeleton's values = "
                     "dict(params) is, not a namedtuple or an object: the other functions "
                     "read it as problem['name']")
    if "- complexity_spread:" in feedback and _OWN_COMPLEXITY.search(parts):
        highs = ", ".join(_largest(p) for p in plan.params if p.kind != "bool")
        hints.append("- complexity(problem) must spread over [0, 1]: near 0 for the easiest "
                     "problem the plan's parameters allow, near 1 for the hardest. Divide the "
                     "value that makes a problem hard by its largest possible value"
                     + (f" (the plan allows up to: {highs})" if highs else "")
                     + ", or leave complexity() out: where the parameters lie in their "
                     "planned ranges is then the complexity")
    corners = sorted({int(n) for n in _CORNER_FAILURE.findall(feedback)})
    for seed in corners:
        hints.append(f"- seed {seed} draws every parameter at its {CORNER_SEEDS[seed]}: "
                     f"{_corner(plan, seed == 1)}")
    if set(_FAILED_CHECK.findall(feedback)) == {"self_checks"}:
        # The code runs and the template's own consistency holds: a check of the model's
        # own that fails is most often written for other values than the ones it gets.
        hints.append("- checks(problem, answer) gets the problem make_problem returns and "
                     "the answer solve returns (their values are shown above): write each "
                     "condition for those values; fix checks()")
    source_lines = parts.splitlines()
    number = next(iter(reported_lines(feedback)), 0)
    if 0 < number <= len(source_lines) and source_lines[number - 1].strip():
        hints.append(f"- line {number} of your code is: {source_lines[number - 1].strip()}")
    if repeated:
        hints.append("- this code was sent before and failed the same way: change it")
    return "\n".join([feedback, *hints])


def functions_using_random(parts: str) -> list[str]:
    """The functions of the parts that call the `random` module rather than `rng`."""
    try:
        tree = parse(parts)
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
            and _RANDOM_MODULE.search(ast.get_source_segment(parts, n) or "")]


def _sampled(attempt: int) -> dict[str, Any]:
    """Sampling for a fresh attempt at the whole code: greedy decoding would answer much as
    before (the 0.5B and 1.5B read little of the feedback), a sample with a seed of its own
    may not. Recorded with the call."""
    return {"temperature": RESAMPLE_TEMPERATURE, "seed": attempt}


def _plan_problem(report: GeneratorCheckReport, plan: GeneratorPlan) -> str:
    """Why the plan rather than the code is at fault for a failed check report ("" if it is
    not): only complexity_spread failed, or every failure is at a corner of the ranges."""
    failed = report.failed()
    if {o.check for o in failed} == {"complexity_spread"}:
        found = failed[0].failures[0].reason if failed[0].failures else "no spread"
        return (f"problems drawn over the whole of your parameters' ranges never became "
                f"hard: {found}. Widen the ranges (or the choices) of the parameters that "
                "make a problem hard, so their largest values give the hardest problems")
    failures = [f for o in failed for f in o.failures]
    if failures and all(f.seed in CORNER_SEEDS for f in failures):
        first = failures[0]
        return (f"with every parameter at its {CORNER_SEEDS[first.seed or 0]} "
                f"({_corner(plan, first.seed == 1)}), the code fails: {first.reason}. Choose "
                "lows and highs that a problem can be made with")
    return ""


def _corner(plan: GeneratorPlan, high: bool) -> str:
    return ", ".join(f"{p.name} {corner_value(s, high)!r}"
                     for p, s in zip(plan.params, param_specs(plan.params), strict=True))


def _largest(param: PlannedParam) -> str:
    if param.kind == "choice":
        return f"{param.name} {max(param.choices or [''], key=_magnitude)!r}"
    return f"{param.name} {param.high:g}"


def _magnitude(choice: Any) -> float:
    return float(choice) if isinstance(choice, int | float) else 0.0


class Synthesizer:
    """See the module docstring."""

    def __init__(self, ctx: AgentContext, llm: LLM, cause: Envelope[Payload],
                 settings: RunSettings) -> None:
        self.ctx, self.llm, self.cause, self.settings = ctx, llm, cause, settings

    async def _record(self, payload: Payload, key: str) -> None:
        await self.ctx.emit(payload, cause=self.cause, key=key)

    async def plan(self, sub: Subtask, plan_id: str, *, revising: GeneratorPlan | None = None,
                   because: str = "") -> GeneratorPlan | str:
        """The P-Agent's plan for a subtask, or why there is none (one line); `revising` a
        plan whose checks showed `because`, a revision of it."""
        sub_doc = {"name": sub.name, "description": sub.description,
                   "capability": sub.capability, "answer_format": sub.answer_format}
        previous = prompts.plan_answer(revising) if revising is not None else None
        problem = because
        for _ in range(PLAN_ATTEMPTS):
            answer = await self.llm.complete_json(
                prompts.PLAN, prompts.plan_messages(sub_doc, problem, previous),
                prompts.PLAN_SCHEMA, cause=self.cause)
            previous = None  # a refused revision is asked for again as a plan
            if prompts.copies_the_example(answer, sub_doc):  # the subtask says it better
                answer = {**answer, "description": ""}
            try:
                plan = plan_from_answer(answer, sub, plan_id)
            except PlanError as exc:
                problem = str(exc)
                continue
            problem = off_target(plan, sub)
            if not problem:
                return plan
            # Given the subtask's words in place of its description, the 1.5B still wrote
            # the sum of its two planned numbers, and it passed every check: refused.
        return f"no usable generator plan: {problem}"

    async def write(
        self, plan: GeneratorPlan, *, round_: int, revision: int = 1, by: Author = "grounding",
        reason: str = "", first_parts: str | None = None, first_by: Author = "grounding",
        previous: str = "", feedback: str = "",
    ) -> SynthesisResult:
        """Attempts at the plan's parts until one passes every check, within the round budget.

        `first_parts` are tried first as they are (the developer's own, or the previous
        revision's); otherwise every attempt is the model's, shown `previous` and `feedback`.
        """
        name = plan.name
        await self._record(GeneratorPlanned(plan=plan, round=round_, revision=revision, by=by,
                                            reason=reason), f"{name}:r{revision}")
        rounds = max(1, self.settings.synthesis_rounds)
        tried: set[str] = set()
        repeated = False
        focus: str | None = None
        for attempt in range(1, rounds + 1):
            if attempt == 1 and first_parts is not None:
                parts, author = first_parts, first_by
            else:
                # Shown their previous code and asked for all of it again, the small models
                # copy it back token for token, sampled or not: a failure inside one function
                # asks for that function alone; any other failure of this loop's own attempt
                # gets a fresh, sampled attempt shown only what failed. (A `previous` from
                # the caller — the code before the developer's edits — is shown.)
                own = attempt > 1
                focus = (failing_function(previous, feedback)
                         if previous and own and not repeated else None)
                shown = previous if focus or not own else ""
                answer = await self.llm.complete_text(
                    prompts.PARTS, prompts.parts_messages(plan, shown, feedback, focus),
                    cause=self.cause, sampling=_sampled(attempt) if own and not focus else None)
                parts, author = code_from_answer(answer), "grounding"
                if focus:
                    parts = spliced(shown, parts)
            renamed: dict[str, str] = {}
            imported: list[str] = []
            unpacked: list[str] = []
            if author == "grounding":  # the developer's own parts are taken as written
                parts, renamed = renamed_params(parts, [p.name for p in plan.params])
                parts, imported = with_imports(parts)
                parts, unpacked = with_unpacked(parts, [p.name for p in plan.params])
            key = f"{name}:r{revision}:a{attempt}"
            repeated = parts in tried
            passed, feedback, plan_problem = await self._attempt(
                plan, revision, attempt, parts, author, key, repeated=repeated, renamed=renamed,
                imported=imported, unpacked=unpacked)
            tried.add(parts)
            if passed:
                source = compose(parts, param_specs(plan.params))
                sha = hashlib.sha256(source.encode()).hexdigest()
                return SynthesisResult(attempts=attempt, reason=(
                    f"{name}@{sha[:12]} passed every check at attempt {attempt} of {rounds}"),
                    record=GeneratorSynthesized(
                        name=name, revision=revision, plan_id=plan.plan_id,
                        subtask=plan.subtask, description=plan.description, source=source,
                        sha256=sha, version=sha[:12], parts=parts, params=plan.params,
                        multiple_choice=plan.multiple_choice, attempts=attempt))
            previous = parts
        return SynthesisResult(record=None, attempts=rounds, reason=(
            f"no attempt at generator {name} passed every check in {rounds} rounds; the last "
            f"failed {first_line(feedback)}"), last_parts=previous, plan_problem=plan_problem)

    async def _attempt(self, plan: GeneratorPlan, revision: int, attempt: int, parts: str,
                       author: Author, key: str, *, repeated: bool,
                       renamed: dict[str, str] | None = None,
                       imported: list[str] | None = None,
                       unpacked: list[str] | None = None) -> tuple[bool, str, str]:
        """Record and check one attempt: (passed, feedback for the next one, why the plan
        is at fault if it is)."""
        name = plan.name
        problem = await _checking(parts_problem, parts)
        source = "" if problem else compose(parts, param_specs(plan.params))
        sha = hashlib.sha256(source.encode()).hexdigest() if source else ""
        await self._record(GeneratorDrafted(name=name, revision=revision, attempt=attempt,
                                            parts=parts, source_sha256=sha, by=author,
                                            renamed=dict(renamed or {}),
                                            imported=list(imported or []),
                                            unpacked=list(unpacked or [])), key)
        if problem:
            feedback = with_hints(f"- python: {problem}", plan, parts, repeated=repeated)
            await self._record(GeneratorChecked(
                name=name, revision=revision, attempt=attempt, stage="code", source_sha256="",
                passed=False, checks=[SynthesisCheck(check="python", status="failed",
                                                     summary=problem)],
                feedback=feedback), f"{key}:code")
            return False, feedback, ""
        report = await _checking(check_generator, source,
                                 check_plan(plan, self.settings.synthesis_seeds))
        feedback = with_hints(report.feedback(), plan, parts, repeated=repeated)
        await self._record(GeneratorChecked(
            name=name, revision=revision, attempt=attempt, stage="code", source_sha256=sha,
            passed=report.passed, feedback=feedback, seconds=report.stats.wall_seconds,
            checks=[SynthesisCheck(check=o.check, status=o.status, summary=o.summary)
                    for o in report.checks]), f"{key}:code")
        if not report.passed:
            return False, feedback, _plan_problem(report, plan)
        passed, feedback = await self._items(plan, revision, attempt, parts, sha, key, repeated)
        return passed, feedback, ""

    async def _judged(self, plan: GeneratorPlan, item: dict[str, Any],
                      seed: int) -> dict[str, Any]:
        """The model's verdict on one rendered item. A failure it names is read again, sampled:
        unconfirmed, it does not count (the 1.5B called a right "0 hours, 19 minutes, 39
        seconds" incomplete, quoting an answer the item does not have)."""
        messages = prompts.item_check_messages(plan, item)
        verdict = await self.llm.complete_json(prompts.ITEM_CHECK, messages,
                                               prompts.ITEM_CHECK_SCHEMA, cause=self.cause)
        check, _ = failed_check(verdict)
        if check is None:
            return dict(verdict)
        again = await self.llm.complete_json(prompts.ITEM_CHECK, messages,
                                             prompts.ITEM_CHECK_SCHEMA, cause=self.cause,
                                             sampling=_sampled(seed))
        return dict(verdict) if failed_check(again)[0] == check else dict(again)

    async def _blind(self, plan: GeneratorPlan, parts: str, sample: RenderedSample,
                     attempt: int) -> BlindAnswer:
        """The easiest item answered without its target, scored by the code. An answer the
        code rejects is asked for again, sampled: the check fails only when the two answers
        agree with each other (the 1.5B answered "247 seconds is 1 hour, 1 minute and 17
        seconds" to a right generator; a units mistake in the code is answered the same way
        twice)."""
        source = compose(parts, param_specs(plan.params))
        messages = prompts.item_solve_messages(sample.question, sample.choices)
        said = await self.llm.complete_json(prompts.ITEM_SOLVE, messages,
                                            prompts.ITEM_SOLVE_SCHEMA, cause=self.cause)
        blind = await _checking(score_blind, plan, source, sample, str(said.get("answer", "")))
        if blind.correct or blind.error:
            return blind
        again = await self.llm.complete_json(prompts.ITEM_SOLVE, messages,
                                             prompts.ITEM_SOLVE_SCHEMA, cause=self.cause,
                                             sampling=_sampled(attempt))
        second = await _checking(score_blind, plan, source, sample, str(again.get("answer", "")))
        if second.correct or second.error:
            return second
        if normalize_answer(second.response) != normalize_answer(blind.response):
            return msgspec.structs.replace(blind, unconfirmed=second.response)
        return blind

    async def _items(self, plan: GeneratorPlan, revision: int, attempt: int, parts: str,
                     sha: str, key: str, repeated: bool) -> tuple[bool, str]:
        """Render K items; the planned checks must be reported, and the model judges them."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        samples, host_problems = await _checking(
            render_samples, plan, compose(parts, param_specs(plan.params)),
            max(1, self.settings.synthesis_item_checks))
        judged: list[dict[str, Any]] = []
        if samples and not host_problems:  # a host failure is feedback enough: no model call
            judged = list(await asyncio.gather(*(
                self._judged(plan, item, attempt * 10 + n)
                for n, item in enumerate(judge_items(samples)))))
        blind = None
        first = easiest(samples)
        if first is not None and not host_problems and plan.metric in BLIND_METRICS:
            blind = await self._blind(plan, parts, first, attempt)
        checks, lines = item_verdicts(samples, host_problems, judged, blind)
        if not samples and not host_problems:
            lines.append("- no item could be rendered")
        feedback = with_hints("\n".join(lines), plan, parts, repeated=repeated)
        await self._record(GeneratorChecked(
            name=plan.name, revision=revision, attempt=attempt, stage="items",
            source_sha256=sha, passed=not lines, checks=checks, feedback=feedback,
            seconds=round(loop.time() - started, 3)), f"{key}:items")
        return not lines, feedback
