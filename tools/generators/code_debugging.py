"""Code debugging: a small Python function with one planted bug.

A function comes from `code_catalogue` (with unit tests); one bug comes from
the AST mutation catalogue (`code_mutations`). Behaviour is never guessed: the
original, a batch of candidate mutants and their candidate patches run
together, in one request to the sandboxed test subprocess (`code_runner`), and a
mutant is kept only if the original passes every test and the mutant fails at
least one, with no call running out of its budget. `verify` runs them again.

Two questions:
- impact: what does a given call return with the buggy code? (the answer is
  what the mutant actually returned, or `raises Name`);
- repair: which of four one-line patches fixes the bug? Distractors are other
  single-line edits that still fail a test.

Complexity is the fraction of the tests the mutant still passes (a bug only
one test catches is harder to see). Parameters left out are drawn with the
seed; `mutation` defaults to "any".
"""

from __future__ import annotations

import ast
import random
import re
from functools import lru_cache
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
from tools.generators.code_catalogue import BY_NAME, CATALOGUE, CatalogueFunction
from tools.generators.code_mutations import (
    KINDS,
    Mutation,
    MutationError,
    all_mutants,
    apply_mutation,
    changed_line,
    normalize,
)
from tools.generators.code_runner import Outcome, RunnerError, passes, run_programs
from tools.generators.named_options import hedged_score, named_options
from tools.generators.param_sampling import instance_rng, params_rng, refit, resolve_params
from tools.generators.rendering import check_mode, instance_metadata

LETTERS = "ABCD"
_MODES = ("default", "text")
_MUTANTS_PER_RUN = 3
_DISTRACTOR_CANDIDATES = 6
_ROUNDS = 4

PARAMS: list[ParamSpec] = [
    ParamSpec(name="function", kind="choice", choices=[f.name for f in CATALOGUE],
              description="Which catalogue function the bug is planted in"),
    ParamSpec(name="question", kind="choice", choices=["impact", "repair"],
              description="impact: what a call returns with the bug; repair: pick the fix"),
    ParamSpec(name="mutation", kind="choice", choices=["any", *KINDS], default="any",
              description="Kind of bug to plant (not drawn: 'any' that the tests catch)"),
]


def _lines(source: str) -> list[str]:
    return source.splitlines()


def apply_patch(source: str, patch: dict[str, Any]) -> str:
    """Replace line `patch['line']` (1-based), which must read `patch['old']`."""
    lines = _lines(source)
    n = patch["line"]
    if not 1 <= n <= len(lines) or lines[n - 1] != patch["old"]:
        raise ValueError(f"patch does not apply at line {n}")
    lines[n - 1] = patch["new"]
    return "\n".join(lines)


@lru_cache(maxsize=4096)
def single_line_mutants(source: str, kinds: tuple[str, ...]) -> tuple[tuple[Mutation, str, int], ...]:
    """Distinct mutants of a source that change exactly one line, with that line's number.

    A pure function of its arguments, cached: the catalogue is small, so the same
    sources come back again and again.
    """
    found: list[tuple[Mutation, str, int]] = []
    seen = {source}
    for m, text in all_mutants(source, kinds):
        line = changed_line(source, text)
        if line is None or text in seen:
            continue
        seen.add(text)
        found.append((m, text, line))
    return tuple(found)


def _call_text(function: str, args: list[Any]) -> str:
    return f"{function}({', '.join(repr(a) for a in args)})"


class CodeDebuggingGenerator:
    """Find what a planted bug does, or which patch repairs it."""

    name = "code_debugging"
    version = "1.0"
    params = PARAMS

    def card(self) -> dict[str, Any]:
        return generator_card(
            self,
            title="Code debugging: behaviour and repair of a planted bug (procedural)",
            modalities=["text"],
            inputs=["text"],
            description=(
                "Procedurally generated debugging questions on small Python functions "
                f"({len(CATALOGUE)} functions with unit tests) with one injected bug from a "
                "catalogue of AST mutations (off-by-one, comparison flip, wrong operator, wrong "
                "return value, swapped arguments, and/or flip, negated condition). Questions "
                "ask what a call returns with the bug, or which of four patches fixes it."
            ),
            card_text=(
                "Each item shows a buggy Python function with its intended behaviour. Impact "
                "questions ask for the value a given call returns with the buggy code (or the "
                "exception it raises) - the answer was obtained by actually running it. Repair "
                "questions offer four one-line patches (A-D); exactly one restores the "
                "original, the others still fail a unit test. Every item is verified by "
                "running the tests in a subprocess: the original passes them all, the bug "
                "fails at least one. Tests code reading, execution tracing and debugging."
            ),
            tasks=["code_understanding", "debugging", "question_answering",
                   "multiple_choice_qa"],
            domain="software engineering, Python",
            fields={
                "question": field(
                    "input", "text",
                    "The buggy function in a Python code block, what it is meant to do, and "
                    "either a call whose result is asked for or four lettered patches to "
                    "choose from.", style="code", extent="medium"),
                "options": field(
                    "choices", "text",
                    "Repair questions only: four one-line patches, as text.",
                    style="structured", path_type="list"),
                "answer": field(
                    "target", "text",
                    "Impact: the returned Python literal or 'raises ExceptionName'; repair: the "
                    "letter of the correct patch."),
            },
            structure=(
                "Each record has a question (input) showing the buggy function; repair items "
                "also list four patches (choices); the target is the observed return value or "
                "the letter of the fix. Metadata holds the function, the mutation and the "
                "complexity."
            ),
        )

    # -- sampling -----------------------------------------------------------------------------

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        draw = params_rng(self.name, seed)
        p, drawn = resolve_params(self.params, params, draw)
        kinds = KINDS if p["mutation"] == "any" else (p["mutation"],)
        fitting = [f.name for f in CATALOGUE if single_line_mutants(normalize(f.source), kinds)]
        refit(p, drawn, "function", fitting, draw,
              f"parameter mutation={p['mutation']!r} has no site in")
        tried = []
        for _ in range(len(CATALOGUE)):
            entry = BY_NAME[p["function"]]
            tried.append(entry.name)
            rng = instance_rng(self.name, seed, p)
            candidates = self._mutants(rng, normalize(entry.source), kinds)
            for start in range(0, min(len(candidates), _ROUNDS * _MUTANTS_PER_RUN),
                               _MUTANTS_PER_RUN):
                batch = candidates[start:start + _MUTANTS_PER_RUN]
                found = self._pick(rng, p, entry, normalize(entry.source), batch)
                if found is not None:
                    return Instance(generator=self.name, seed=seed, params=p, **found)
            untried = [name for name in fitting if name not in tried]
            if "function" not in drawn or not untried:
                break
            p["function"] = draw.choice(untried)
        raise ParamError(
            f"parameter mutation={p['mutation']!r}: no such bug in function="
            f"{'/'.join(tried)} is caught by the tests and supports question={p['question']!r}")

    def _mutants(self, rng: random.Random, original: str,
                 kinds: tuple[str, ...]) -> list[tuple[Mutation, str, int]]:
        """Single-line mutants in random order: a random kind first, then a random site."""
        by_kind: dict[str, list[tuple[Mutation, str, int]]] = {}
        for mutant in single_line_mutants(original, kinds):
            by_kind.setdefault(mutant[0].kind, []).append(mutant)
        order = sorted(by_kind)
        rng.shuffle(order)
        for kind in order:
            rng.shuffle(by_kind[kind])
        # Round-robin over kinds so every kind gets early candidates.
        result = []
        depth = max((len(v) for v in by_kind.values()), default=0)
        for i in range(depth):
            result += [by_kind[k][i] for k in order if i < len(by_kind[k])]
        return result

    def _patches(self, rng: random.Random, original: str, mutant: str,
                 line: int) -> list[dict[str, Any]]:
        """Wrong one-line patches of the mutant: same line first, then other lines."""
        correct = _lines(original)[line - 1]
        mutant_lines = _lines(mutant)
        same, other, seen = [], [], {correct}
        for _, text, at in single_line_mutants(mutant, KINDS):
            new = _lines(text)[at - 1]
            if new in seen or text == original:
                continue
            seen.add(new)
            patch = {"line": at, "old": mutant_lines[at - 1], "new": new}
            (same if at == line else other).append(patch)
        rng.shuffle(same)
        rng.shuffle(other)
        return (same + other)[:_DISTRACTOR_CANDIDATES]

    def _pick(self, rng: random.Random, p: dict[str, Any], entry: CatalogueFunction,
              original: str, batch: list[tuple[Mutation, str, int]]) -> dict[str, Any] | None:
        """Run the original, a batch of mutants (and their patches) at once; keep the first
        mutant the tests catch that supports the question."""
        tests = [list(args) for args, _ in entry.tests]
        calls = tests + [list(a) for a in entry.probes]
        programs = [original] + [text for _, text, _ in batch]
        patch_sets: list[list[dict[str, Any]]] = []
        if p["question"] == "repair":
            for _, text, line in batch:
                patches = self._patches(rng, original, text, line)
                patch_sets.append(patches)
                programs += [apply_patch(text, patch) for patch in patches]
        results = run_programs(programs, entry.name, calls)
        base = results[0]
        if not all(passes(o, exp) for o, (_, exp) in zip(base, entry.tests, strict=False)):
            raise AssertionError(f"catalogue function {entry.name} fails its own tests")
        offset = 1 + len(batch)
        for i, (mutation, text, line) in enumerate(batch):
            outcomes = results[1 + i]
            if not all(o.stable for o in outcomes):
                continue
            verdicts = [passes(o, exp) for o, (_, exp) in zip(outcomes, entry.tests,
                                                               strict=False)]
            if all(verdicts):
                continue  # the tests do not see this bug
            content = {
                "function": entry.name,
                "description": ast.get_docstring(ast.parse(original).body[0]) or "",
                "original": original,
                "mutant": text,
                "mutation": {"kind": mutation.kind, "site": mutation.site,
                             "variant": mutation.variant, "line": line,
                             "original_line": _lines(original)[line - 1],
                             "mutant_line": _lines(text)[line - 1]},
                "tests": [{"args": list(args), "expected": exp} for args, exp in entry.tests],
                "mutant_passes": verdicts,
                "question": p["question"],
            }
            if p["question"] == "impact":
                answer = self._impact(rng, entry, calls, base, outcomes, content)
            else:
                patches = patch_sets[i]
                start = offset + sum(len(s) for s in patch_sets[:i])
                patched = results[start:start + len(patches)]
                answer = self._repair(rng, entry, content, patches, patched)
            if answer is None:
                continue
            complexity = sum(verdicts) / len(verdicts)
            return {"content": content, "answer": answer, "complexity": complexity}
        return None

    def _impact(self, rng: random.Random, entry: CatalogueFunction, calls: list[list[Any]],
                base: list[Outcome], outcomes: list[Outcome],
                content: dict[str, Any]) -> str | None:
        differing = [i for i, (a, b) in enumerate(zip(base, outcomes, strict=True))
                     if b.stable and a.text() != b.text()]
        if not differing:
            return None
        i = rng.choice(differing)
        content["probe"] = {
            "args": calls[i],
            "call": _call_text(entry.name, calls[i]),
            "returns": outcomes[i].text(),
            "original_returns": base[i].text(),
        }
        return outcomes[i].text()

    def _repair(self, rng: random.Random, entry: CatalogueFunction, content: dict[str, Any],
                patches: list[dict[str, Any]], patched: list[list[Outcome]]) -> str | None:
        wrong = [
            patch for patch, outcomes in zip(patches, patched, strict=True)
            if all(o.stable for o in outcomes)
            and not all(passes(o, exp) for o, (_, exp) in zip(outcomes, entry.tests,
                                                               strict=False))
        ][:3]
        if len(wrong) < 3:
            return None
        m = content["mutation"]
        right = {"line": m["line"], "old": m["mutant_line"], "new": m["original_line"]}
        options = [right, *wrong]
        rng.shuffle(options)
        content["patches"] = options
        first_fail = next(i for i, ok in enumerate(content["mutant_passes"]) if not ok)
        content["failing_test"] = content["tests"][first_fail]
        return LETTERS[options.index(right)]

    # -- verification -------------------------------------------------------------------------

    def verify(self, instance: Instance) -> list[CheckResult]:
        c = instance.content
        try:
            entry_tests = [(t["args"], t["expected"]) for t in c["tests"]]
            m = c["mutation"]
            mutation = Mutation(m["kind"], m["site"], m["variant"])
            programs = [c["original"], c["mutant"]]
            calls = [args for args, _ in entry_tests]
            if c["question"] == "impact":
                calls = [*calls, c["probe"]["args"]]
            elif c["question"] == "repair":
                programs += [apply_patch(c["mutant"], patch) for patch in c["patches"]]
                LETTERS.index(instance.answer)
            else:
                raise ValueError(f"unknown question {c['question']!r}")
        except (KeyError, TypeError, ValueError) as exc:
            return all_failed(f"malformed content: {exc!r}")
        try:
            results = run_programs(programs, c["function"], calls)
        except RunnerError as exc:
            return all_failed(str(exc))
        original, mutant = results[0], results[1]
        verdicts = [passes(o, exp) for o, (_, exp) in zip(mutant, entry_tests, strict=False)]
        return [
            self._check_consistency(c, mutation, original, mutant, entry_tests),
            self._check_feasibility(instance, original, mutant, results[2:], entry_tests),
            self._check_complexity(instance, verdicts),
        ]

    def _check_consistency(self, c: dict[str, Any], mutation: Mutation,
                           original: list[Outcome], mutant: list[Outcome],
                           tests: list[tuple[Any, Any]]) -> CheckResult:
        """The mutant is the recorded mutation of the original, and the tests tell them apart."""
        fail = failing("consistency")
        try:
            remade = apply_mutation(c["original"], mutation)
        except (MutationError, SyntaxError) as exc:
            return fail(f"recorded mutation does not apply: {exc}")
        if remade != c["mutant"]:
            return fail("the mutant is not the recorded mutation of the original")
        if changed_line(c["original"], c["mutant"]) != c["mutation"]["line"]:
            return fail("the bug is not on the recorded line")
        failed = [i for i, (o, (_, exp)) in enumerate(zip(original, tests, strict=False))
                  if not passes(o, exp)]
        if failed:
            return fail(f"the original fails test(s) {failed}")
        if not all(o.stable for o in mutant):
            return fail("a call of the mutant timed out or ran out of memory")
        caught = [i for i, (o, (_, exp)) in enumerate(zip(mutant, tests, strict=False))
                  if not passes(o, exp)]
        if not caught:
            return fail("the mutant passes every test: behaviour did not change")
        return CheckResult(check="consistency", passed=True,
                           reason=f"original passes {len(tests)} tests; mutant fails {caught}")

    def _check_feasibility(self, instance: Instance, original: list[Outcome],
                           mutant: list[Outcome], patched: list[list[Outcome]],
                           tests: list[tuple[Any, Any]]) -> CheckResult:
        """The stored answer is what running the code gives."""
        c = instance.content
        if c["question"] == "impact":
            got, before = mutant[-1], original[-1]
            if not got.stable or got.text() != instance.answer:
                return CheckResult(check="feasibility", passed=False,
                                   reason=f"stored answer {instance.answer!r}, the buggy code "
                                          f"gives {got.text()!r}")
            if before.text() == got.text():
                return CheckResult(check="feasibility", passed=False,
                                   reason="the probed call behaves the same without the bug")
            return CheckResult(check="feasibility", passed=True,
                               reason=f"{c['probe']['call']} -> {got.text()} "
                                      f"(without the bug: {before.text()})")
        patches = c["patches"]
        if len(patches) != len(LETTERS) or len({p["new"] + str(p["line"]) for p in patches}) != 4:
            return CheckResult(check="feasibility", passed=False,
                               reason="need four distinct patches")
        fixes = [LETTERS[i] for i, outcomes in enumerate(patched)
                 if all(passes(o, exp) for o, (_, exp) in zip(outcomes, tests, strict=False))]
        right = LETTERS.index(instance.answer) if instance.answer in LETTERS else -1
        restores = right >= 0 and apply_patch(c["mutant"], patches[right]) == c["original"]
        if fixes != [instance.answer] or not restores:
            return CheckResult(check="feasibility", passed=False,
                               reason=f"patches passing all tests: {fixes}; answer "
                                      f"{instance.answer!r}; restores original: {restores}")
        return CheckResult(check="feasibility", passed=True,
                           reason=f"only patch {instance.answer} passes all tests")

    def _check_complexity(self, instance: Instance, verdicts: list[bool]) -> CheckResult:
        want = sum(verdicts) / len(verdicts) if verdicts else 1.0
        return complexity_check(instance.complexity, want,
                                "fraction of tests the bug slips past", digits=4,
                                agrees=verdicts == instance.content.get("mutant_passes"))

    # -- scoring ------------------------------------------------------------------------------

    def score(self, instance: Instance, answer: str) -> Score:
        if instance.content["question"] == "repair":
            return _score_choice(instance, answer)
        return _score_value(instance, answer)

    # -- rendering ----------------------------------------------------------------------------

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, _MODES)
        c = instance.content
        intro = (f"The Python function `{c['function']}` below is meant to do this: "
                 f"{c['description']}\nIt contains a bug.\n\n```python\n{c['mutant']}\n```\n\n")
        metadata = {
            **instance_metadata(self, instance),
            "function": c["function"],
            "mutation_kind": c["mutation"]["kind"],
            "question": c["question"],
        }
        if c["question"] == "impact":
            text = (intro + f"What does `{c['probe']['call']}` return when this buggy code "
                    "runs? Answer with a Python literal (for example 3, [1, 2], 'abc', None, "
                    "True), or with `raises ExceptionName` if the call raises an exception.")
            return RenderedItem(input=text, target=str(instance.answer), metadata=metadata)
        t = c["failing_test"]
        choices = [f"Line {p['line']}: replace `{p['old'].strip()}` with `{p['new'].strip()}`"
                   for p in c["patches"]]
        listed = "\n".join(f"{letter}) {choice}" for letter, choice in zip(LETTERS, choices,
                                                                           strict=True))
        text = (intro + f"For example, `{_call_text(c['function'], t['args'])}` should return "
                f"{t['expected']!r}. Lines are numbered from 1 at `def`. Which patch fixes the "
                f"bug?\n{listed}\n\nAnswer with the letter only.")
        return RenderedItem(input=text, target=str(instance.answer), choices=choices,
                            metadata=metadata)


_ANSWER_MARK = re.compile(r"answer\s*(?:is|:)?\s*([^\n]{0,40})", re.IGNORECASE)
_LETTER = re.compile(r"\b([A-D])\b")


def _score_choice(instance: Instance, answer: str) -> Score:
    """Letter answers; naming several letters earns a share if one is right."""
    named = named_options(answer, marked=_ANSWER_MARK, option=_LETTER, mention=_LETTER,
                          short=20, fold_short=str.upper)
    truth = instance.answer
    return hedged_score(named, truth, {"named": named, "expected": truth})


def _literal(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _answer_candidates(answer: str) -> list[str]:
    """Plausible spans holding the final value, best first."""
    text = answer.strip().strip("`").strip()
    text = re.sub(r"^```\w*\s*|\s*```$", "", text)
    lines = [ln.strip().strip("`").strip() for ln in text.splitlines() if ln.strip()]
    spans = [text] + lines[-1:]
    for ln in reversed(lines):
        m = re.search(r"(?:answer|returns?|result)\s*(?:is|:|=)?\s*(.+)$", ln, re.IGNORECASE)
        if m:
            spans.append(m.group(1).strip().strip("`.").strip())
    return spans


def _score_value(instance: Instance, answer: str) -> Score:
    """Impact answers: the exact literal (or exception); same-length sequences get a share."""
    expected = str(instance.answer)
    before = instance.content["probe"]["original_returns"]
    detail: dict[str, Any] = {"expected": expected, "original_behaviour": before}
    if expected.startswith("raises "):
        name = expected.split(" ", 1)[1]
        right = re.search(rf"\b{re.escape(name)}\b", answer) is not None
        detail["named_exception"] = right
        return Score(correct=right, score=float(right), detail=detail)
    ok, want = _literal(expected)
    for span in _answer_candidates(answer):
        parsed, got = _literal(span)
        if not parsed:
            continue
        detail["parsed"] = repr(got)
        if repr(got) == repr(want):
            return Score(correct=True, score=1.0, detail=detail)
        detail["gave_pre_bug_value"] = repr(got) == before
        share = 0.0
        if (ok and isinstance(got, list | tuple | str) and isinstance(want, type(got))
                and len(got) == len(want) and len(want) > 0):
            share = sum(repr(a) == repr(b) for a, b in zip(got, want, strict=True)) / len(want)
        return Score(correct=False, score=share, detail=detail)
    detail["error"] = "no Python literal found"
    return Score(correct=False, score=0.0, detail=detail)
