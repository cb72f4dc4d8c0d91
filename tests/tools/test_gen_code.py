"""Code debugging: catalogue, AST mutations, the test subprocess, checks, scorer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators.base import Instance, ParamError
from tools.generators.code_catalogue import CATALOGUE
from tools.generators.code_debugging import LETTERS, CodeDebuggingGenerator, apply_patch
from tools.generators.code_mutations import (
    KINDS,
    Mutation,
    MutationError,
    apply_mutation,
    changed_line,
    enumerate_mutations,
    normalize,
)
from tools.generators.code_runner import RunnerError, close_workers, passes, run_programs

GEN = CodeDebuggingGenerator()


# -- catalogue, mutations, runner ---------------------------------------------------------------


def test_every_catalogue_function_passes_its_own_tests_in_the_subprocess() -> None:
    assert len(CATALOGUE) >= 10
    for entry in CATALOGUE:
        assert len(entry.tests) >= 4
        calls = [list(args) for args, _ in entry.tests]
        (outcomes,) = run_programs([normalize(entry.source)], entry.name, calls)
        assert [passes(o, exp) for o, (_, exp) in zip(outcomes, entry.tests, strict=True)] == [
            True] * len(entry.tests), entry.name


def test_every_mutation_kind_applies_somewhere_and_changes_one_line() -> None:
    seen = set()
    for entry in CATALOGUE:
        original = normalize(entry.source)
        for m in enumerate_mutations(original):
            mutant = apply_mutation(original, m)
            assert mutant == apply_mutation(original, m)  # deterministic
            if changed_line(original, mutant) is not None:
                seen.add(m.kind)
    assert seen == set(KINDS)


def test_mutation_examples() -> None:
    src = normalize("def f(xs, k):\n    if k < len(xs) and k >= 0:\n        return xs[k:]\n"
                    "    return xs[0] - k\n")
    assert "k <= len(xs)" in apply_mutation(src, Mutation("comparison_flip", 0, 0))
    assert " or " in apply_mutation(src, Mutation("bool_op_flip", 0, 0))
    assert "if not (k < len(xs)" in apply_mutation(src, Mutation("negated_condition", 0, 0))
    assert "xs[:k]" in apply_mutation(src, Mutation("swapped_args", 1, 0))
    assert "return k - xs[0]" in apply_mutation(src, Mutation("swapped_args", 0, 0))
    assert "xs[1] - k" in apply_mutation(src, Mutation("off_by_one", 1, 0))
    assert "xs[0] + k" in apply_mutation(src, Mutation("wrong_operator", 0, 0))
    with pytest.raises(MutationError):
        apply_mutation(src, Mutation("comparison_flip", 9, 0))


def test_runner_reports_values_exceptions_and_stops_runaway_code() -> None:
    good = "def f(x):\n    return [x, x * 2]\n"
    boom = "def f(x):\n    return 1 // (x - x)\n"
    loop = "def f(x):\n    while True:\n        x += 1\n"
    grow = "def f(x):\n    while True:\n        x = x * x + 2\n"
    results = run_programs([good, boom, loop, grow], "f", [[3], [4]])
    assert [o.text() for o in results[0]] == ["[3, 6]", "[4, 8]"]
    assert [o.text() for o in results[1]] == ["raises ZeroDivisionError"] * 2
    for runaway in results[2:]:
        assert runaway[0].status == "unstable" and runaway[1].status == "skipped"


_PID = "def f():\n    import posix\n    return posix.getpid()\n"


def _worker_pid() -> int:
    ((outcome,),) = run_programs([_PID], "f", [[]])
    assert outcome.status == "ok"
    return outcome.value


def test_the_test_subprocess_is_a_separate_process_reused_across_requests() -> None:
    pid = _worker_pid()
    assert pid != os.getpid()
    assert _worker_pid() == pid
    # What programs print or read never reaches the protocol: stdin/stdout are /dev/null.
    chatty = "def f(x):\n    print('noise' * 1000)\n    return input()\n"
    ((outcome,),) = run_programs([chatty], "f", [[1]])
    assert outcome.text() == "raises EOFError"
    assert _worker_pid() == pid


def test_a_program_that_changes_the_worker_leaves_the_next_request_a_fresh_one() -> None:
    pid = _worker_pid()
    patch = "import builtins\nbuiltins.len = lambda x: 7\ndef f():\n    return len([])\n"
    clean = "def f():\n    return len([])\n"
    # Its own request sees the change, as a fresh process would...
    assert [o[0].value for o in run_programs([patch, clean], "f", [[]])] == [7, 7]
    # ...the next one runs in a new worker where len is len again.
    assert _worker_pid() != pid
    assert run_programs([clean], "f", [[]])[0][0].value == 0


def test_a_request_over_its_timeout_or_a_crash_kills_the_worker_and_the_next_one_works() -> None:
    pid = _worker_pid()
    # One C-level call: neither the line budget nor the alarm can stop it, the timeout does.
    slow = "def f():\n    return sum(range(10 ** 10))\n"
    with pytest.raises(RunnerError, match="exceeded 0.5 s"):
        run_programs([slow], "f", [[]], timeout=0.5)
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped
    pid = _worker_pid()
    crash = "def f():\n    import posix\n    posix._exit(3)\n"
    with pytest.raises(RunnerError, match="exited 3"):
        run_programs([crash], "f", [[]])
    assert not Path(f"/proc/{pid}").exists()
    assert run_programs(["def f(x):\n    return x + 1\n"], "f", [[1]])[0][0].value == 2


def test_a_reused_worker_gives_what_a_fresh_one_gives() -> None:
    entry = CATALOGUE[0]
    original = normalize(entry.source)
    programs = [original] + [apply_mutation(original, m) for m in enumerate_mutations(original)]
    calls = [list(args) for args, _ in entry.tests] + [list(a) for a in entry.probes]
    close_workers()
    fresh = run_programs(programs, entry.name, calls)
    for other in CATALOGUE[1:]:
        run_programs([normalize(other.source)], other.name, [list(a) for a, _ in other.tests])
    assert run_programs(programs, entry.name, calls) == fresh


# -- generation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_mutation_kind_gives_a_verified_instance(kind: str) -> None:
    inst = GEN.sample(1, {"mutation": kind, "question": "impact" if len(kind) % 2 else "repair"})
    assert inst.content["mutation"]["kind"] == kind
    checks = GEN.verify(inst)
    assert [c.check for c in checks] == ["consistency", "feasibility", "complexity"]
    assert all(c.passed for c in checks), checks


def test_impact_answer_is_what_the_buggy_code_returns() -> None:
    inst = GEN.sample(2, {"question": "impact", "function": "binary_search"})
    c = inst.content
    (original, mutant) = run_programs([c["original"], c["mutant"]], "binary_search",
                                      [c["probe"]["args"]])
    assert mutant[0].text() == inst.answer == c["probe"]["returns"]
    assert original[0].text() == c["probe"]["original_returns"] != inst.answer


def test_repair_has_exactly_one_fix_among_four_patches() -> None:
    inst = GEN.sample(3, {"question": "repair"})
    c = inst.content
    assert len(c["patches"]) == 4 and inst.answer in LETTERS
    programs = [apply_patch(c["mutant"], p) for p in c["patches"]]
    calls = [t["args"] for t in c["tests"]]
    results = run_programs(programs, c["function"], calls)
    fixes = [LETTERS[i] for i, outs in enumerate(results)
             if all(passes(o, t["expected"]) for o, t in zip(outs, c["tests"], strict=True))]
    assert fixes == [inst.answer]
    assert apply_patch(c["mutant"], c["patches"][LETTERS.index(inst.answer)]) == c["original"]


def test_same_seed_gives_the_same_bytes() -> None:
    for params in ({"question": "impact"}, {"question": "repair"}):
        a, b = GEN.sample(4, params), GEN.sample(4, params)
        assert msgspec.json.encode(a) == msgspec.json.encode(b)
        assert GEN.render(a, Path(".")) == GEN.render(b, Path("."))
    assert msgspec.json.encode(GEN.sample(5)) != msgspec.json.encode(GEN.sample(6))


def test_resolved_params_reproduce_the_instance() -> None:
    for seed in (7, 8):
        inst = GEN.sample(seed)
        params = msgspec.json.decode(msgspec.json.encode(inst.params))
        assert GEN.sample(seed, params) == inst


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"function": "quicksort"}, "function"),
        ({"question": "explain"}, "question"),
        ({"mutation": "typo"}, "mutation"),
        ({"seed": 3}, "unknown parameter 'seed'"),
    ],
)
def test_out_of_range_params_are_refused_by_name(params: dict[str, Any], needle: str) -> None:
    with pytest.raises(ParamError) as err:
        GEN.sample(0, params)
    assert needle in str(err.value)


def test_a_bug_kind_the_function_cannot_have_is_refused() -> None:
    with pytest.raises(ParamError, match="bool_op_flip"):
        GEN.sample(0, {"function": "factorial", "mutation": "bool_op_flip"})


# -- verification checks catch planted bad instances ----------------------------------------


def _with(inst: Instance, **content: Any) -> Instance:
    merged = {**msgspec.json.decode(msgspec.json.encode(inst.content)), **content}
    return msgspec.structs.replace(inst, content=merged)


def test_consistency_check_catches_a_bug_that_changes_nothing() -> None:
    inst = GEN.sample(9, {"question": "impact"})
    # The "mutant" is the original: the tests cannot tell them apart.
    same = GEN.verify(_with(inst, mutant=inst.content["original"]))[0]
    assert not same.passed
    # A mutant that is not the recorded mutation of the original.
    m = dict(inst.content["mutation"], variant=inst.content["mutation"]["variant"] + 5)
    assert not GEN.verify(_with(inst, mutation=m))[0].passed


def test_consistency_check_catches_an_original_that_fails_its_tests() -> None:
    inst = GEN.sample(10, {"question": "impact"})
    tests = [dict(t) for t in inst.content["tests"]]
    tests[0]["expected"] = "definitely not this"
    bad = GEN.verify(_with(inst, tests=tests))[0]
    assert not bad.passed and "original fails" in bad.reason


def test_feasibility_check_catches_a_wrong_impact_answer() -> None:
    inst = GEN.sample(11, {"question": "impact"})
    bad = GEN.verify(msgspec.structs.replace(inst, answer="'surely wrong'"))[1]
    assert not bad.passed and "buggy code gives" in bad.reason


def test_feasibility_check_catches_two_fixes_or_a_wrong_letter() -> None:
    inst = GEN.sample(12, {"question": "repair"})
    right = LETTERS.index(inst.answer)
    other = (right + 1) % 4
    wrong_letter = GEN.verify(msgspec.structs.replace(inst, answer=LETTERS[other]))[1]
    assert not wrong_letter.passed
    # A "distractor" that is in fact an equivalent fix: add a comment-free no-op variant.
    patches = [dict(p) for p in inst.content["patches"]]
    fix = patches[right]
    patches[other] = {**fix, "new": fix["new"] + "  # same fix"}
    two = GEN.verify(_with(inst, patches=patches))[1]
    assert not two.passed and "patches passing all tests" in two.reason


def test_complexity_check_catches_a_wrong_complexity() -> None:
    inst = GEN.sample(13, {"question": "impact"})
    bad = GEN.verify(msgspec.structs.replace(inst, complexity=0.99))[2]
    assert not bad.passed and "recomputed" in bad.reason


# -- the scorer ---------------------------------------------------------------------------------


def _impact_instance(answer: str, before: str) -> Instance:
    return Instance(generator="code_debugging", seed=0, params={}, answer=answer, complexity=0.0,
                    content={"question": "impact",
                             "probe": {"original_returns": before, "returns": answer}})


def test_impact_scorer_right_wrong_and_partly_right() -> None:
    inst = _impact_instance("[2, 3, 4, 5, 1]", "[3, 4, 5, 1, 2]")
    assert GEN.score(inst, "[2, 3, 4, 5, 1]").correct
    assert GEN.score(inst, "It returns `[2, 3, 4, 5, 1]`.").correct
    assert GEN.score(inst, "Tracing...\nAnswer: [2, 3, 4, 5, 1]").correct
    partial = GEN.score(inst, "[2, 3, 4, 1, 5]")
    assert not partial.correct and partial.score == pytest.approx(3 / 5)
    pre_bug = GEN.score(inst, "[3, 4, 5, 1, 2]")
    assert not pre_bug.correct and pre_bug.detail["gave_pre_bug_value"]
    assert GEN.score(inst, "no idea").score == 0.0
    raising = _impact_instance("raises IndexError", "3")
    assert GEN.score(raising, "It raises an IndexError").correct
    assert not GEN.score(raising, "raises KeyError").correct


def test_repair_scorer_right_wrong_and_partly_right() -> None:
    inst = GEN.sample(14, {"question": "repair"})
    right = inst.answer
    wrong = LETTERS[(LETTERS.index(right) + 1) % 4]
    assert GEN.score(inst, right).correct
    assert GEN.score(inst, f"The answer is ({right}).").correct
    assert GEN.score(inst, wrong).score == 0.0
    hedge = GEN.score(inst, f"{wrong} or {right}")
    assert not hedge.correct and hedge.score == 0.5


# -- rendering and card -------------------------------------------------------------------------


def test_rendering_shows_the_buggy_code_and_the_question(tmp_path: Path) -> None:
    impact = GEN.sample(15, {"question": "impact"})
    item = GEN.render(impact, tmp_path)
    assert impact.content["mutant"] in item.input and impact.content["probe"]["call"] in item.input
    assert item.target == impact.answer and item.choices is None
    repair = GEN.sample(15, {"question": "repair"})
    item = GEN.render(repair, tmp_path)
    assert item.choices is not None and len(item.choices) == 4
    assert all(f"{letter}) " in item.input for letter in LETTERS)
    assert item.target == repair.answer and list(tmp_path.iterdir()) == []


def test_card_is_a_pool_card() -> None:
    card = parse_card("gen-code_debugging", GEN.card())
    assert isinstance(card, DatasetCard) and card.generator == "code_debugging"
