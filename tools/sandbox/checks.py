"""The host-side checker of a synthesized generator module: K seeds in the sandbox, every
failure with its reason, as a structured report. Seeds 0 and 1 draw the plan's corners (every
parameter at its low, then at its high): what the ranges allow at both ends is always tried.

    report = check_generator(source, CheckPlan(params=[...], complexity_range=(0.0, 1.0)))
    report.passed, report.checks, report.feedback()

Checks (in report order):
- imports: every import is on the allow-list — statically, and none refused at run time;
- escape_hatches: no eval/exec/getattr/__subclasses__/private module attributes (static);
- loads: the module compiles, loads and defines sample, verify, score and render;
- runs: no call raises, and every value has the contract's shape, on every seed;
- budgets: every call stays within the lines, CPU, wall-clock, memory, disk and output budgets;
- deterministic: a second, fresh sandbox (other hash seed, seeds in reverse order) gives
  identical instances and rendered items (media bytes included);
- self_checks: the module's own `verify` passes on every instance;
- scorer: the scorer accepts each item's target and rejects another item's different target;
- answers_unique (multiple choice): options are distinct, the scorer accepts the target and
  rejects every distractor, by letter and by text;
- complexity_spread: every complexity lies in the planned range, and they reach both its
  lowest and its highest bin;
- independent_check: the plan's independent check (separate code, its own sandbox) holds on
  every instance.

Everything runs inside the sandbox except these verdicts: the module can only return data,
never reach the code that judges it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, Literal, get_args

import msgspec

from tools.generators.base import Instance, ParamSpec
from tools.generators.param_sampling import (
    corner_value,
    ordered_bounds,
    params_rng,
    resolve_params,
)
from tools.sandbox.allowlist import ALLOWED_MODULES, static_violations
from tools.sandbox.contract import (
    FUNCTIONS,
    ContractError,
    RenderedPart,
    instance_payload,
    make_instance,
    read_checks,
    read_render,
    read_sample,
    read_score,
)
from tools.sandbox.session import Sandbox
from tools.sandbox.wire import BUDGET_KINDS, Budgets, CallResult, SandboxError

CheckName = Literal[
    "imports", "escape_hatches", "loads", "runs", "budgets", "deterministic", "self_checks",
    "scorer", "answers_unique", "complexity_spread", "independent_check",
]
CHECK_ORDER: tuple[CheckName, ...] = get_args(CheckName)
Status = Literal["passed", "failed", "skipped"]

MAX_FAILURES = 10  # per check, in the report
MAX_RESTARTS = 3  # fresh sandboxes after a killed one, per run
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOLERANCE = 1e-9


class CheckPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What the checker needs from a generator plan."""

    name: str = "synthesized"
    params: list[ParamSpec] = []
    complexity_range: tuple[float, float] = (0.0, 1.0)
    spread_bins: int = 3  # complexities must reach the lowest and the highest of these bins
    multiple_choice: bool = False
    # Source of a separate module defining check(instance) -> bool | [bool, reason].
    independent_check: str | None = None
    seeds: int = 16
    budgets: Budgets = Budgets()


class CheckFailure(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    seed: int | None = None
    function: str | None = None
    kind: str | None = None  # the sandbox's error kind (wire.ErrorKind), when there is one


class CheckOutcome(msgspec.Struct, frozen=True, kw_only=True):
    check: CheckName
    status: Status
    summary: str
    failures: list[CheckFailure] = []


class CheckStats(msgspec.Struct, frozen=True, kw_only=True):
    calls: int
    sandboxes: int
    wall_seconds: float
    max_lines: int  # per call
    max_cpu_seconds: float  # per call
    max_call_wall_seconds: float


class GeneratorCheckReport(msgspec.Struct, frozen=True, kw_only=True):
    source_sha256: str
    seeds: list[int]
    passed: bool
    checks: list[CheckOutcome]
    complexities: list[float]
    stats: CheckStats

    def outcome(self, check: str) -> CheckOutcome:
        return next(c for c in self.checks if c.check == check)

    def failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.status == "failed"]

    def feedback(self, per_check: int = 3) -> str:
        """The failures as text for the model's next round ("" when everything passed)."""
        lines = []
        for outcome in self.failed():
            lines.append(f"- {outcome.check}: {outcome.summary}")
            for f in outcome.failures[:per_check]:
                where = ", ".join(x for x in (
                    f"seed {f.seed}" if f.seed is not None else "",
                    f"{f.function}()" if f.function else "") if x)
                lines.append(f"    {where + ': ' if where else ''}{f.reason}")
        return "\n".join(lines)


# -- running calls, surviving a killed sandbox ------------------------------------------------


class _Runner:
    """Calls into one module; a sandbox killed by a call is replaced for the next one."""

    def __init__(self, source: str, budgets: Budgets, hash_seed: int,
                 stats: _Stats) -> None:
        self.box = Sandbox(source, budgets=budgets, hash_seed=hash_seed)
        self.stats = stats
        self.restarts = 0
        self.loaded = self._start()

    def _start(self) -> CallResult:
        self.stats.sandboxes += 1
        return self.stats.add(self.box.start())

    def call(self, function: str, *args: Any, collect_files: bool = False) -> CallResult:
        if not self.box.alive:
            if self.restarts >= MAX_RESTARTS:
                return CallResult(function=function, ok=False, error=SandboxError(
                    kind="killed", message=f"not run: the sandbox was killed "
                    f"{MAX_RESTARTS + 1} times"))
            self.restarts += 1
            self._start()
        return self.stats.add(self.box.call(function, *args, collect_files=collect_files))

    def close(self) -> None:
        self.box.close()


class _Stats:
    def __init__(self) -> None:
        self.calls = self.sandboxes = self.max_lines = 0
        self.max_cpu = self.max_wall = 0.0

    def add(self, result: CallResult) -> CallResult:
        self.calls += 1
        self.max_lines = max(self.max_lines, result.lines)
        self.max_cpu = max(self.max_cpu, result.cpu_seconds)
        self.max_wall = max(self.max_wall, result.wall_seconds)
        return result


class _Findings:
    """Failures by check, as they are found."""

    def __init__(self) -> None:
        self.by_check: dict[str, list[CheckFailure]] = {name: [] for name in CHECK_ORDER}
        self.skipped: dict[str, str] = {}

    def fail(self, check: str, reason: str, *, seed: int | None = None,
             function: str | None = None, kind: str | None = None) -> None:
        self.by_check[check].append(CheckFailure(reason=reason, seed=seed, function=function,
                                                 kind=kind))

    def call_failed(self, result: CallResult, seed: int | None) -> None:
        """File a failed call under the check its kind belongs to."""
        if result.error is None:
            self.fail("runs", result.stdout or "not run", seed=seed, function=result.function)
            return
        kind, message = result.error.kind, result.error.message
        check = ("budgets" if kind in BUDGET_KINDS else
                 "imports" if kind == "forbidden_import" else
                 "loads" if kind in ("missing_function", "syntax") else "runs")
        self.fail(check, message, seed=seed, function=result.function, kind=kind)

    def ok(self, result: CallResult, seed: int | None) -> bool:
        for name in result.forbidden_imports:
            self.fail("imports", f"attempted import of {name!r} at run time", seed=seed,
                      function=result.function, kind="forbidden_import")
        if not result.ok:
            self.call_failed(result, seed)
        return result.ok

    def read(self, result: CallResult, reader: Callable[[Any], Any], seed: int | None) -> Any:
        """The call's value read by the contract, or None after filing why not."""
        if not self.ok(result, seed):
            return None
        try:
            return reader(result.value)
        except ContractError as exc:
            self.fail("runs", str(exc), seed=seed, function=result.function)
            return None


# -- the checks ------------------------------------------------------------------------------


class _Item(msgspec.Struct, kw_only=True):
    """What one seed produced in the first run."""

    seed: int
    instance: Instance
    rendered: RenderedPart | None = None
    files: dict[str, str] = {}  # name -> sha256


def _digest(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


CORNER_SEEDS: dict[int, Literal["low", "high"]] = {0: "low", 1: "high"}


def check_generator(source: str, plan: CheckPlan | None = None) -> GeneratorCheckReport:
    """Run every check of the module docstring over `plan.seeds` seeds. Raises
    `jail.SandboxUnavailable` when the sandbox cannot run on this machine (never a verdict
    on the code); a plan parameter of an unsupported kind raises `ParamError`."""
    plan = plan or CheckPlan()
    started = time.perf_counter()
    findings, stats = _Findings(), _Stats()
    seeds = list(range(plan.seeds))
    params = {s: ordered_bounds(plan.params, *resolve_params(plan.params, None,
                                                              params_rng(plan.name, s)))
              for s in seeds}
    for seed, end in CORNER_SEEDS.items():  # the plan's corners: every parameter at one end
        if seed in params:
            params[seed] = {spec.name: corner_value(spec, high=end == "high")
                            for spec in plan.params}
    items: list[_Item] = []

    for v in static_violations(source, ALLOWED_MODULES):
        check = {"forbidden_import": "imports", "forbidden_name": "escape_hatches"}.get(
            v.kind, "loads")
        findings.fail(check, f"line {v.line}: {v.detail}", kind=v.kind)

    if findings.by_check["loads"]:  # does not even parse
        _skip_all_but(findings, ("imports", "escape_hatches", "loads"), "the module does not parse")
    else:
        first = _Runner(source, plan.budgets, hash_seed=1, stats=stats)
        try:
            if findings.ok(first.loaded, None):
                items = _first_run(first, seeds, params, plan, findings)
            else:
                findings.fail("loads", "the module did not load", function="<load>")
                _skip_all_but(findings, ("imports", "escape_hatches", "loads", "runs",
                                         "budgets"), "the module did not load")
        finally:
            first.close()
        if items:
            _second_run(source, plan, items, params, findings, stats)
            _complexity_spread(plan, items, findings)
            _independent_check(plan, items, findings, stats)
        elif not findings.skipped:
            _skip_all_but(findings, ("imports", "escape_hatches", "loads", "runs", "budgets"),
                          "no seed produced an instance")
    if not plan.multiple_choice and "answers_unique" not in findings.skipped:
        findings.skipped.setdefault("answers_unique", "the plan is not multiple choice")

    outcomes = [_outcome(name, findings, plan, items) for name in CHECK_ORDER]
    return GeneratorCheckReport(
        source_sha256=hashlib.sha256(source.encode()).hexdigest(), seeds=seeds,
        passed=all(o.status != "failed" for o in outcomes), checks=outcomes,
        complexities=[item.instance.complexity for item in items],
        stats=CheckStats(calls=stats.calls, sandboxes=stats.sandboxes,
                         wall_seconds=round(time.perf_counter() - started, 3),
                         max_lines=stats.max_lines, max_cpu_seconds=stats.max_cpu,
                         max_call_wall_seconds=round(stats.max_wall, 3)))


def _clip(value: Any, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _skip_all_but(findings: _Findings, keep: tuple[str, ...], why: str) -> None:
    for name in CHECK_ORDER:
        if name not in keep:
            findings.skipped.setdefault(name, why)


def _first_run(runner: _Runner, seeds: list[int], params: dict[int, dict[str, Any]],
               plan: CheckPlan, findings: _Findings) -> list[_Item]:
    """Sample, verify, render and score every seed, in order."""
    items = []
    for seed in seeds:
        part = findings.read(runner.call("sample", seed, params[seed]), read_sample, seed)
        if part is None:
            continue
        item = _Item(seed=seed, instance=make_instance(plan.name, seed, params[seed], part))
        payload = instance_payload(item.instance)
        checks = findings.read(runner.call("verify", payload), read_checks, seed)
        if checks is not None:
            if not checks:
                findings.fail("self_checks", "verify returned no checks", seed=seed)
            for c in checks:
                if not c.passed:  # the values it failed on: what a check must be written for
                    findings.fail("self_checks", f"{c.check}: {c.reason} (problem "
                                  f"{_clip(part.content.get('problem', part.content))}, answer "
                                  f"{_clip(part.answer)})", seed=seed)
        rendered_call = runner.call("render", payload, collect_files=True)
        item.rendered = findings.read(rendered_call, read_render, seed)
        item.files = _digest(rendered_call.files)
        if item.rendered is not None:
            missing = sorted(set(item.rendered.media) - set(rendered_call.files))
            if missing:
                findings.fail("runs", f"render names media it did not write: {missing}",
                              seed=seed, function="render")
            _score_target(runner, item, plan, findings)
        items.append(item)
    _score_other_targets(runner, items, findings)
    return items


def _score(runner: _Runner, item: _Item, answer: str, findings: _Findings) -> bool | None:
    score = findings.read(runner.call("score", instance_payload(item.instance), answer),
                          read_score, item.seed)
    return None if score is None else score.correct


def _score_target(runner: _Runner, item: _Item, plan: CheckPlan, findings: _Findings) -> None:
    rendered = item.rendered
    assert rendered is not None
    if _score(runner, item, rendered.target, findings) is False:
        findings.fail("scorer", f"the scorer rejects the item's own target {rendered.target!r}",
                      seed=item.seed)
    if plan.multiple_choice and not rendered.choices:
        findings.fail("answers_unique", "the plan is multiple choice but the item has no "
                      "options", seed=item.seed)
    if not rendered.choices:
        return
    choices = rendered.choices
    if len({_norm(c) for c in choices}) != len(choices):
        findings.fail("answers_unique", f"options are not distinct: {choices}", seed=item.seed)
    letters = _LETTERS[:len(choices)]
    if rendered.target not in letters:
        findings.fail("answers_unique", f"target {rendered.target!r} is not an option letter "
                      f"({letters})", seed=item.seed)
        return
    for letter, text in zip(letters, choices, strict=True):
        if letter == rendered.target:
            continue
        for said in (letter, text):
            if _score(runner, item, said, findings):
                findings.fail("answers_unique", f"the scorer accepts distractor {said!r} "
                              f"(target {rendered.target!r})", seed=item.seed)


def _score_other_targets(runner: _Runner, items: list[_Item], findings: _Findings) -> None:
    """Free-form items: another item's different target must be rejected."""
    free = [i for i in items if i.rendered is not None and not i.rendered.choices]
    targets = [i.rendered.target for i in free if i.rendered is not None]
    if len(targets) > 1 and len({_norm(t) for t in targets}) == 1:
        findings.fail("scorer", f"all {len(targets)} items have the same target "
                      f"{targets[0]!r}: the answer does not vary")
        return
    for n, item in enumerate(free):
        assert item.rendered is not None
        other = next((o for o in free[n + 1:] + free[:n] if o.rendered is not None
                      and _norm(o.rendered.target) != _norm(item.rendered.target)), None)
        if other is None or other.rendered is None:
            continue
        if _score(runner, item, other.rendered.target, findings):
            findings.fail("scorer", f"the scorer accepts {other.rendered.target!r}, the target "
                          f"of seed {other.seed}, for target {item.rendered.target!r}",
                          seed=item.seed)


def _second_run(source: str, plan: CheckPlan, items: list[_Item],
                params: dict[int, dict[str, Any]], findings: _Findings, stats: _Stats) -> None:
    """Same seeds, fresh sandbox, another hash seed, reverse order: the same instances."""
    runner = _Runner(source, plan.budgets, hash_seed=2, stats=stats)
    try:
        if not findings.ok(runner.loaded, None):
            findings.fail("deterministic", "the module did not load a second time")
            return
        for item in reversed(items):
            seed = item.seed
            part = findings.read(runner.call("sample", seed, params[seed]), read_sample, seed)
            if part is None:
                findings.fail("deterministic", "sampling failed the second time", seed=seed)
                continue
            again = make_instance(plan.name, seed, params[seed], part)
            if again != item.instance:
                findings.fail("deterministic", _difference(item.instance, again), seed=seed)
                continue
            rendered_call = runner.call("render", instance_payload(again), collect_files=True)
            rendered = findings.read(rendered_call, read_render, seed)
            if rendered != item.rendered or _digest(rendered_call.files) != item.files:
                findings.fail("deterministic", "the same instance rendered differently",
                              seed=seed, function="render")
    finally:
        runner.close()


def _difference(a: Instance, b: Instance) -> str:
    fields = [f for f in ("content", "answer", "complexity") if getattr(a, f) != getattr(b, f)]
    shown = ", ".join(f"{f}: {getattr(a, f)!r:.80} then {getattr(b, f)!r:.80}" for f in fields)
    return f"the same seed gave a different instance ({shown})"


def _complexity_spread(plan: CheckPlan, items: list[_Item], findings: _Findings) -> None:
    low, high = plan.complexity_range
    values = [item.instance.complexity for item in items]
    for item in items:
        c = item.instance.complexity
        if not low - _TOLERANCE <= c <= high + _TOLERANCE:
            findings.fail("complexity_spread", f"complexity {c:.4f} outside the planned "
                          f"[{low:g}, {high:g}]", seed=item.seed)
    if high - low <= _TOLERANCE or len(values) < 2:
        return
    width = (high - low) / max(1, plan.spread_bins)
    if min(values) > low + width + _TOLERANCE:
        findings.fail("complexity_spread", f"no instance in the lowest bin [{low:g}, "
                      f"{low + width:.3g}]; lowest is {min(values):.4f}")
    if max(values) < high - width - _TOLERANCE:
        findings.fail("complexity_spread", f"no instance in the highest bin "
                      f"[{high - width:.3g}, {high:g}]; highest is {max(values):.4f}")


def _independent_check(plan: CheckPlan, items: list[_Item], findings: _Findings,
                       stats: _Stats) -> None:
    if plan.independent_check is None:
        findings.skipped["independent_check"] = "the plan names no independent check"
        return
    runner = _Runner(plan.independent_check, plan.budgets, hash_seed=3, stats=stats)
    try:
        if not runner.loaded.ok:
            error = runner.loaded.error
            findings.fail("independent_check", "the independent check did not load: "
                          f"{error.message if error else 'unknown'}")
            return
        for item in items:
            result = runner.call("check", instance_payload(item.instance))
            if not result.ok:
                error = result.error
                findings.fail("independent_check", f"the check failed to run: "
                              f"{error.message if error else result.stdout}", seed=item.seed,
                              kind=error.kind if error else None)
                continue
            value = result.value
            held, why = (value[0], str(value[1])) if (
                isinstance(value, list) and len(value) == 2) else (value, "")
            if held is not True:
                findings.fail("independent_check", f"does not hold{': ' + why if why else ''}"
                              f" (answer {item.instance.answer!r:.80})", seed=item.seed)
    finally:
        runner.close()


_PASSED_SUMMARY: dict[str, str] = {
    "imports": "only allowed modules",
    "escape_hatches": "no escape hatches",
    "loads": "loads and defines " + ", ".join(FUNCTIONS),
    "runs": "no call raised; every value has the contract's shape",
    "budgets": "every call within its budgets",
    "deterministic": "a fresh sandbox, another hash seed and reverse order gave the same items",
    "self_checks": "the module's own checks pass on every instance",
    "scorer": "accepts every target, rejects other items' targets",
    "answers_unique": "every distractor rejected, every target accepted",
    "independent_check": "holds on every instance",
}


def _outcome(name: CheckName, findings: _Findings, plan: CheckPlan,
             items: list[_Item]) -> CheckOutcome:
    failures = findings.by_check[name]
    if failures:
        summary = f"{len(failures)} failure{'s' if len(failures) > 1 else ''}"
        seeds = sorted({f.seed for f in failures if f.seed is not None})
        if seeds:
            summary += f" on seed{'s' if len(seeds) > 1 else ''} " + ", ".join(map(str, seeds))
        return CheckOutcome(check=name, status="failed", summary=summary,
                            failures=failures[:MAX_FAILURES])
    if name in findings.skipped:
        return CheckOutcome(check=name, status="skipped", summary=findings.skipped[name])
    summary = _PASSED_SUMMARY.get(name, "")
    if name == "complexity_spread":
        values = [i.instance.complexity for i in items]
        low, high = plan.complexity_range
        summary = (f"{len(values)} complexities in [{min(values):.3f}, {max(values):.3f}], "
                   f"planned [{low:g}, {high:g}]")
    return CheckOutcome(check=name, status="passed", summary=summary)
