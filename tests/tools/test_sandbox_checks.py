"""The checker of synthesized generators: a good module passes every check; a bad module
fails exactly the check it breaks, with a reason; and a module checked by it becomes a
working `Generator`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators.base import Instance, ParamError, ParamSpec
from tools.sandbox import checks
from tools.sandbox.checks import CheckPlan, GeneratorCheckReport, check_generator
from tools.sandbox.synthesized import GeneratedCodeError, SynthesizedGenerator
from tools.sandbox.template import (
    EXAMPLE_PARAMS,
    EXAMPLE_PARTS,
    PROMPT_EXAMPLE_PARAMS,
    PROMPT_EXAMPLE_PARTS,
    compose,
)
from tools.sandbox.wire import Budgets

PLAN = CheckPlan(name="hms", params=EXAMPLE_PARAMS, seeds=12,
                 budgets=Budgets(lines=50_000, cpu_seconds=2.0, wall_seconds=5.0))
GOOD = compose(EXAMPLE_PARTS, EXAMPLE_PARAMS)

# Recomputes the answer by counting up, not by divmod: independent of the module's solve.
INDEPENDENT = textwrap.dedent("""
    def check(instance):
        seconds = instance["content"]["problem"]["seconds"]
        h, m, s = instance["answer"]
        count = [0, 0, 0]
        while seconds >= 3600:
            seconds -= 3600
            count[0] += 1
        while seconds >= 60:
            seconds -= 60
            count[1] += 1
        count[2] = seconds
        return [count == [h, m, s], "counted %r" % count]
""")

MULTIPLE_CHOICE = EXAMPLE_PARTS + textwrap.dedent("""

    def distractors(problem, answer, rng):
        h, m, s = answer
        return [[h, (m + 1) % 60, s], [h, m, (s + 7) % 60], [h + 1, m, s]]
""")


def statuses(report: GeneratorCheckReport) -> dict[str, str]:
    return {c.check: c.status for c in report.checks}


def failed(report: GeneratorCheckReport) -> set[str]:
    return {c.check for c in report.failed()}


def reasons(report: GeneratorCheckReport, check: str) -> str:
    return " | ".join(f.reason for f in report.outcome(check).failures)


def parts(old: str, new: str, source: str = EXAMPLE_PARTS) -> str:
    assert old in source, old
    return compose(source.replace(old, new), EXAMPLE_PARAMS)


def test_a_good_module_passes_every_check_and_the_report_is_wire_data() -> None:
    report = check_generator(GOOD, msgspec.structs.replace(PLAN, independent_check=INDEPENDENT))
    assert report.passed, report.feedback()
    assert set(statuses(report).values()) <= {"passed", "skipped"}
    assert statuses(report)["answers_unique"] == "skipped"  # not multiple choice
    assert statuses(report)["independent_check"] == "passed"
    assert report.seeds == list(range(12)) and len(report.complexities) == 12
    assert min(report.complexities) == 0.0 and max(report.complexities) == 1.0
    assert report.stats.sandboxes == 3 and report.stats.calls > 4 * 12
    assert report.feedback() == ""
    decoded = msgspec.json.decode(msgspec.json.encode(report), type=GeneratorCheckReport)
    assert decoded == report


def test_a_good_multiple_choice_module_has_unique_answers() -> None:
    report = check_generator(compose(MULTIPLE_CHOICE, EXAMPLE_PARAMS),
                             msgspec.structs.replace(PLAN, multiple_choice=True))
    assert report.passed, report.feedback()
    assert statuses(report)["answers_unique"] == "passed"


def test_imports_outside_the_allow_list() -> None:
    report = check_generator(parts("def make_problem(rng, params):",
                                   "import os\n\n\ndef make_problem(rng, params):"), PLAN)
    assert "imports" in failed(report) and "line 1: import os" in reasons(report, "imports")
    assert "loads" in failed(report)  # the import is refused at run time as well
    dynamic = check_generator(parts('    return {"seconds"',
                                    '    __import__("os")\n    return {"seconds"'), PLAN)
    assert {"imports", "escape_hatches"} <= failed(dynamic)
    assert "use of __import__" in reasons(dynamic, "escape_hatches")
    assert "'os'" in reasons(dynamic, "imports")


def test_an_allowed_module_may_import_its_own_helpers_and_only_then() -> None:
    # datetime.strptime imports _strptime, and date.strftime imports time, from C, in the
    # middle of the module's own call.
    dated = parts('    return {"seconds": rng.randint(1, params["max_seconds"])}',
                  '    import datetime\n'
                  '    start = datetime.datetime.strptime("2024-03-01", "%Y-%m-%d")\n'
                  '    day = int(start.date().strftime("%d"))\n'
                  '    return {"seconds": rng.randint(1, params["max_seconds"]) + day - 1}')
    report = check_generator(dated, PLAN)
    assert report.passed, report.feedback()
    timed = check_generator(parts("def make_problem(rng, params):",
                                  "import time\n\n\ndef make_problem(rng, params):"), PLAN)
    assert "imports" in failed(timed) and "import time" in reasons(timed, "imports")
    direct = check_generator(parts("def make_problem(rng, params):",
                                   "import _strptime\n\n\ndef make_problem(rng, params):"),
                             PLAN)
    # Written in the module's own code, the static check still refuses it (at run time the
    # worker cannot tell it from datetime's own import, and it is harmless there).
    assert "imports" in failed(direct) and "_strptime" in reasons(direct, "imports")


def test_escape_hatches() -> None:
    report = check_generator(parts('    return {"seconds"',
                                   '    rng.__class__.__subclasses__()\n    return {"seconds"'),
                             PLAN)
    assert failed(report) == {"escape_hatches"}
    assert "attribute .__subclasses__" in reasons(report, "escape_hatches")


def test_a_module_without_a_contract_function_does_not_load() -> None:
    source = GOOD.replace("def render(instance):", "def draw(instance):")
    report = check_generator(source, PLAN)
    assert "loads" in failed(report)
    assert "no function 'render'" in reasons(report, "loads")
    unparsable = check_generator("def make_problem(:\n", PLAN)
    assert "loads" in failed(unparsable) and statuses(unparsable)["deterministic"] == "skipped"


def test_a_module_that_raises_on_some_seeds() -> None:
    report = check_generator(parts(
        '    return {"seconds": rng.randint(1, params["max_seconds"])}',
        '    seconds = rng.randint(1, params["max_seconds"])\n'
        '    if seconds % 3 == 0:\n'
        '        raise ValueError("multiple of three")\n'
        '    return {"seconds": seconds}'), PLAN)
    assert "runs" in failed(report)
    assert "ValueError: multiple of three (line 4)" in reasons(report, "runs")
    assert all(f.function == "sample" for f in report.outcome("runs").failures)


def test_a_module_that_returns_the_wrong_shape() -> None:
    source = GOOD.replace('return {"content": content, "answer": answer,',
                          'return {"content": content, "solution": answer,')
    report = check_generator(source, PLAN)
    assert "runs" in failed(report) and "sample returned" in reasons(report, "runs")


def test_a_module_over_its_budgets() -> None:
    report = check_generator(parts(
        '    return {"seconds": rng.randint(1, params["max_seconds"])}',
        '    seconds = rng.randint(1, params["max_seconds"])\n'
        '    while seconds > 3000:\n'
        '        pass\n'
        '    return {"seconds": seconds}'), PLAN)
    assert "budgets" in failed(report)
    budget = report.outcome("budgets").failures
    assert {f.kind for f in budget} == {"lines"} and all(f.seed is not None for f in budget)
    memory = check_generator(parts('    return {"seconds"',
                                   '    hoard = bytearray(10 * 10 ** 9)\n    return {"seconds"'),
                             PLAN)
    assert "budgets" in failed(memory)
    assert {f.kind for f in memory.outcome("budgets").failures} == {"memory"}


def test_a_nondeterministic_module() -> None:
    counter = parts('def make_problem(rng, params):\n',
                    'CALLS = [0]\n\n\ndef make_problem(rng, params):\n'
                    '    CALLS[0] += 1\n'
                    '    if CALLS[0] % 2:\n'
                    '        rng.random()\n')
    report = check_generator(counter, PLAN)
    assert "deterministic" in failed(report)
    assert "the same seed gave a different instance" in reasons(report, "deterministic")
    hashed = check_generator(parts(
        '    return {"seconds": rng.randint(1, params["max_seconds"])}',
        '    return {"seconds": rng.randint(1, params["max_seconds"]) + hash("salt") % 1000}'),
        PLAN)
    assert "deterministic" in failed(hashed)


def test_a_module_whose_own_checks_fail() -> None:
    report = check_generator(parts('"minutes and seconds < 60")]',
                                   '"minutes and seconds < 60"),\n'
                                   '            ("clarity", problem["seconds"] % 2 == 0, "odd")]'),
                             PLAN)
    assert failed(report) == {"self_checks"} and "clarity: odd" in reasons(report, "self_checks")
    # Each failure shows the values the check got, to write it for them.
    assert "clarity: odd (problem {'seconds': " in reasons(report, "self_checks")
    assert "}, answer [" in reasons(report, "self_checks")


def test_own_checks_without_reasons_count_and_a_malformed_one_is_named() -> None:
    two = parts('"h:m:s adds up to the seconds")', ')').replace(
        '"minutes and seconds < 60")]', ')]')
    report = check_generator(two, PLAN)
    assert report.passed, report.feedback()
    bare = parts('    return [("consistency", total', '    return [total == 1, ("consistency", total')
    report = check_generator(bare, PLAN)
    assert "runs" in failed(report)
    assert "checks() must return (name, passed, reason) tuples, not False" in reasons(
        report, "runs")


def test_scorers_that_accept_anything_or_reject_their_own_target() -> None:
    lenient = check_generator(parts("    parts = response.strip()",
                                    "    return True\n    parts = response.strip()"), PLAN)
    assert failed(lenient) == {"scorer"}
    assert "the scorer accepts" in reasons(lenient, "scorer")
    strict = check_generator(parts("    parts = response.strip()",
                                   "    return False\n    parts = response.strip()"), PLAN)
    assert "scorer" in failed(strict) and "rejects the item's own target" in reasons(
        strict, "scorer")


def test_multiple_choice_with_a_distractor_equal_to_the_answer() -> None:
    report = check_generator(
        compose(MULTIPLE_CHOICE.replace("[h + 1, m, s]]", "[h, m, s]]"), EXAMPLE_PARAMS),
        msgspec.structs.replace(PLAN, multiple_choice=True))
    assert "answers_unique" in failed(report)
    assert "options are not distinct" in reasons(report, "answers_unique")
    no_options = check_generator(GOOD, msgspec.structs.replace(PLAN, multiple_choice=True))
    assert "answers_unique" in failed(no_options)


def test_complexity_that_does_not_spread_over_the_planned_range() -> None:
    flat = check_generator(compose(EXAMPLE_PARTS + "\n\ndef complexity(problem):\n"
                                   "    return 0.5\n", EXAMPLE_PARAMS), PLAN)
    assert failed(flat) == {"complexity_spread"}
    assert "no instance in the lowest bin" in reasons(flat, "complexity_spread")
    # A complexity of its own that the plan's ranges never make high: seconds below an hour.
    units = textwrap.dedent("""

        def complexity(problem):
            return 0.0 if problem["seconds"] < 60 else 0.5 if problem["seconds"] < 3600 else 1.0
    """)
    short = [ParamSpec(name="max_seconds", kind="choice", choices=[59, 600, 3599])]
    low = check_generator(compose(EXAMPLE_PARTS + units, short),
                          msgspec.structs.replace(PLAN, params=short))
    assert "no instance in the highest bin" in reasons(low, "complexity_spread")
    narrow = check_generator(GOOD, msgspec.structs.replace(PLAN, complexity_range=(0.0, 0.6)))
    assert "complexity 1.0000 outside the planned [0, 0.6]" in reasons(
        narrow, "complexity_spread")


def test_the_independent_check_catches_a_wrong_answer_the_module_does_not() -> None:
    # Off by one minute past the half hour; the module's own checks are too weak to notice.
    wrong = EXAMPLE_PARTS.replace("    return [hours, minutes, seconds]",
                                  "    return [hours, minutes + (minutes >= 30), seconds]")
    wrong = wrong.replace("total == problem[\"seconds\"]", "total >= problem[\"seconds\"]")
    report = check_generator(compose(wrong, EXAMPLE_PARAMS),
                             msgspec.structs.replace(PLAN, independent_check=INDEPENDENT))
    assert failed(report) == {"independent_check"}, report.feedback()
    assert "does not hold: counted" in reasons(report, "independent_check")


def test_a_module_that_tries_to_patch_the_checker_cannot_change_the_verdict() -> None:
    before = (checks.check_generator, checks._Findings.fail, json.dumps)
    reach = parts("def make_problem(rng, params):\n", textwrap.dedent("""\
        try:
            from tools.sandbox import checks
            checks.check_generator = lambda *a, **k: None
        except BaseException:
            pass


        def make_problem(rng, params):
        """))
    reached = check_generator(reach, PLAN)
    assert {"imports", "loads"} <= failed(reached)
    assert "'tools.sandbox'" in reasons(reached, "imports")
    # Make every reply of the worker claim success, print a fake reply, be nondeterministic.
    forge = parts("def make_problem(rng, params):\n", textwrap.dedent("""\
        import json


        class Forger(json.JSONEncoder):
            def encode(self, o):
                if isinstance(o, dict) and "id" in o and "ok" in o:
                    o = dict(o, ok=True, error=None)
                return super().encode(o)


        json.JSONEncoder = Forger
        print('{"id": 1, "ok": true, "value": {"content": {}, "answer": 0, "complexity": 0}}')


        def make_problem(rng, params):
            return {"seconds": rng.randint(1, params["max_seconds"]) + hash("x") % 1000}


        def unused(rng, params):
        """))
    forged = check_generator(forge, PLAN)
    assert not forged.passed and "deterministic" in failed(forged)
    assert (checks.check_generator, checks._Findings.fail, json.dumps) == before
    # The same checker, unpatched, still passes the good module.
    assert check_generator(GOOD, PLAN).passed


def test_a_checked_module_is_a_generator(tmp_path: Path) -> None:
    media_parts = EXAMPLE_PARTS + textwrap.dedent("""

        from PIL import Image


        def media(problem):
            Image.new("L", (8, 8), problem["seconds"] % 256).save("clock.png")
            return ["clock.png"]
    """)
    source = compose(media_parts, EXAMPLE_PARAMS)
    assert check_generator(source, PLAN).passed
    with SynthesizedGenerator("hms", source, params=EXAMPLE_PARAMS,
                              description="Seconds to H:MM:SS") as gen:
        inst = gen.sample(4)
        assert isinstance(inst, Instance) and inst.generator == "hms" and inst.seed == 4
        assert inst.params["max_seconds"] in (59, 3599, 86399)
        assert gen.sample(4) == inst and gen.sample(4, inst.params) == inst
        assert all(c.passed for c in gen.verify(inst))
        item = gen.render(inst, tmp_path)
        h, m, s = inst.answer
        assert item.target == f"{h}:{m:02d}:{s:02d}" and str(inst.content["problem"]["seconds"]) \
            in item.input
        assert item.metadata["generator_sha256"] == gen.sha256 and gen.version == gen.sha256[:12]
        assert item.metadata["seed"] == 4 and item.metadata["generator"] == "hms"
        assert len(item.media) == 1 and (tmp_path / item.media[0]).read_bytes().startswith(
            b"\x89PNG")
        assert gen.score(inst, item.target).correct
        assert not gen.score(inst, "0:00:00" if item.target != "0:00:00" else "1:00:00").correct
        with pytest.raises(ParamError, match="max_seconds"):
            gen.sample(1, {"max_seconds": 7})
        card = parse_card("generator:hms", gen.card())
        assert isinstance(card, DatasetCard) and card.dataset_id == "gen-hms"


def test_a_generator_whose_code_fails_says_why() -> None:
    source = compose(EXAMPLE_PARTS.replace(
        '    return {"seconds": rng.randint(1, params["max_seconds"])}',
        '    raise RuntimeError("broken")'))
    with SynthesizedGenerator("broken", source, params=[]) as gen:
        with pytest.raises(GeneratedCodeError, match="broken") as caught:
            gen.sample(0, {})
    assert caught.value.kind == "exception"


def test_the_example_the_model_is_shown_passes_every_check() -> None:
    plan = CheckPlan(name="mean", params=PROMPT_EXAMPLE_PARAMS, seeds=12)
    report = check_generator(compose(PROMPT_EXAMPLE_PARTS, PROMPT_EXAMPLE_PARAMS), plan)
    assert report.passed, report.feedback()


def test_without_a_complexity_of_its_own_an_instance_is_as_hard_as_its_parameters() -> None:
    """The frame's complexity: where each parameter lies in its planned range (numeric
    choices by value, bools as 0/1), averaged; seeds 0 and 1 are the plan's corners."""
    specs = [ParamSpec(name="max_seconds", kind="choice", choices=[3599, 59, 86399]),
             ParamSpec(name="step", kind="int", low=10, high=20),
             ParamSpec(name="strict", kind="bool")]
    plan = msgspec.structs.replace(PLAN, params=specs)
    report = check_generator(compose(EXAMPLE_PARTS, specs), plan)
    assert report.passed, report.feedback()
    assert report.complexities[:2] == [0.0, 1.0]
    assert all(0.0 <= c <= 1.0 for c in report.complexities)
    with SynthesizedGenerator("hms", compose(EXAMPLE_PARTS, specs), params=specs) as gen:
        middle = gen.sample(7, {"max_seconds": 3599, "step": 15, "strict": False})
        assert middle.complexity == pytest.approx((0.5 + 0.5 + 0.0) / 3)
        assert all(c.passed for c in gen.verify(middle))  # recomputed from its params


def test_plan_parameters_are_drawn_on_the_host() -> None:
    plan = CheckPlan(name="x", params=[ParamSpec(name="n", kind="int", low=1, high=3)], seeds=6)
    source = compose(textwrap.dedent("""
        def make_problem(rng, params):
            return {"n": params["n"]}

        def solve(problem):
            return problem["n"] * 2

        def question(problem):
            return "Double %d." % problem["n"]

        def complexity(problem):
            return (problem["n"] - 1) / 2

        def checks(problem, answer):
            return [("feasibility", True, "always")]
    """))
    report = check_generator(source, plan)
    assert report.passed, report.feedback()
    assert set(report.complexities) <= {0.0, 0.5, 1.0}


def test_a_problem_that_is_not_a_dict_is_named_where_it_is_made() -> None:
    report = check_generator(parts('    return {"seconds": rng.randint(1, params["max_seconds"])}',
                                   '    return str(rng.randint(1, params["max_seconds"]))'), PLAN)
    assert "runs" in failed(report)
    assert "make_problem() must return a dict, not str: fix make_problem()" in reasons(
        report, "runs")


RANGE_PARTS = '''\
def make_problem(rng, params):
    return {"seconds": rng.randrange(params["range_min"], params["range_max"] + 1)}


def solve(problem):
    hours, rest = divmod(problem["seconds"], 3600)
    minutes, seconds = divmod(rest, 60)
    return "%d:%02d:%02d" % (hours, minutes, seconds)


def question(problem):
    return "Convert %d seconds into H:MM:SS." % problem["seconds"]


def checks(problem, answer):
    return [("positive", problem["seconds"] >= 0, "a duration")]
'''


def test_range_ends_drawn_for_the_checks_and_the_items_are_in_order() -> None:
    ends = [ParamSpec(name="range_min", kind="int", low=0, high=7200, description="shortest"),
            ParamSpec(name="range_max", kind="int", low=0, high=7200, description="longest")]
    plan = CheckPlan(name="ranged", params=ends, seeds=12, budgets=PLAN.budgets)
    # Drawn independently, the two ends cross on some of these seeds: the code's
    # randrange(min, max + 1) would raise on an empty range.
    report = check_generator(compose(RANGE_PARTS, ends), plan)
    assert report.passed, report.feedback()
    with SynthesizedGenerator("ranged", compose(RANGE_PARTS, ends), params=ends) as gen:
        for seed in range(12):
            instance = gen.sample(seed)
            assert instance.params["range_min"] <= instance.params["range_max"]
            # Re-created from its recorded values (as the Verifier does), the same item.
            assert gen.sample(seed, dict(instance.params)) == instance
