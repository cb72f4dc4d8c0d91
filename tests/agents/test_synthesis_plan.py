"""A generator plan and the template's parts, read from a model's answer: what is refused,
in one line, before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from agents.prompts.synthesis import (
    EXAMPLE_PLAN,
    copies_the_example,
    parts_messages,
    parts_skeleton,
    plan_answer,
)
from agents.synthesis.flow import with_hints
from agents.synthesis.grounding import media_needed
from agents.synthesis.item_checks import (
    RenderedSample,
    easiest,
    item_verdicts,
    render_samples,
    score_blind,
    shows_answer,
    unseen_values,
)
from agents.synthesis.parts import (
    code_from_answer,
    failing_function,
    parts_problem,
    renamed_params,
    spliced,
    with_imports,
    with_unpacked,
)
from agents.synthesis.plan import (
    PlanError,
    check_plan,
    generator_name,
    off_target,
    param_specs,
    plan_from_answer,
)
from store.events import Subtask
from tools.generators.param_sampling import params_rng, resolve_params
from tools.sandbox.checks import check_generator
from tools.sandbox.template import EXAMPLE_PARTS, compose

SUB = Subtask(name="Time zones on a DST change", description="Schedule a call across zones",
              capability="date arithmetic", answer_format="short_answer")


def answer(*params: dict[str, Any], metric: str = "exact_match") -> dict[str, Any]:
    return {"description": "Schedule a call.",
            "params": list(params), "constraints": ["the call is in working hours"],
            "checks": [{"name": "Feasibility", "description": "a slot exists"}],
            "complexity": "zones crossed / 3", "metric": metric}


def test_a_plan_becomes_the_parameters_the_host_draws() -> None:
    plan = plan_from_answer(answer(
        {"name": "Zones", "kind": "int", "low": 1.5, "high": 4, "choices": ["x"],
         "description": "how many zones"},
        {"name": "month", "kind": "choice", "low": 0, "high": 0, "choices": ["3", "10", "11"],
         "description": ""},
        {"name": "weekend ok", "kind": "bool", "low": 0, "high": 0, "choices": [],
         "description": ""}), SUB, "p-1")
    assert plan.name == generator_name(SUB.name) == "synth-time-zones-on-a-dst-change"
    assert [(p.name, p.kind, p.low, p.high, p.choices) for p in plan.params] == [
        ("zones", "int", 2.0, 4.0, None), ("month", "choice", None, None, [3, 10, 11]),
        ("weekend_ok", "bool", None, None, None)]
    assert [c.name for c in plan.checks] == ["feasibility"] and not plan.multiple_choice
    values, drawn = resolve_params(param_specs(plan.params), None, params_rng(plan.name, 3))
    assert drawn == {"zones", "month", "weekend_ok"}
    assert 2 <= values["zones"] <= 4 and values["month"] in (3, 10, 11)


@pytest.mark.parametrize(("param", "message"), [
    ({"name": "when", "kind": "date", "low": 0, "high": 1},
     "parameter when: unknown kind 'date'; kinds are int, float, bool, choice"),
    ({"name": "zones", "kind": "int", "low": 9, "high": 2},
     "parameter zones: low 9 is above high 2"),
    ({"name": "zones", "kind": "int", "low": 1.2, "high": 1.8},
     "parameter zones: no integer between low 1.2 and high 1.8"),
    ({"name": "month", "kind": "choice", "choices": ["3"]},
     "parameter month: a choice parameter needs at least two choices"),
    ({"name": "month", "kind": "choice", "choices": ["3", "3"]},
     "parameter month: its choices repeat"),
    ({"name": "rate", "kind": "float", "low": "a", "high": 2},
     "parameter rate: low must be a number, got 'a'"),
    ({"name": "9lives", "kind": "int", "low": 1, "high": 2},
     "parameter name '9lives' is not usable as a Python identifier"),
])
def test_a_bad_plan_is_refused_with_one_line(param: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_from_answer(answer(param), SUB, "p-1")
    assert str(caught.value) == message


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(PlanError, match="unknown metric 'bleu'; metrics are exact_match, "
                                        "accepts, multiple_choice"):
        plan_from_answer(answer(metric="bleu"), SUB, "p-1")


def test_the_code_is_read_from_a_fenced_answer_or_taken_as_it_is() -> None:
    fenced = f"Here it is:\n```python\n{EXAMPLE_PARTS}```\nHope it helps."
    assert code_from_answer(fenced) == EXAMPLE_PARTS
    assert code_from_answer(EXAMPLE_PARTS) == EXAMPLE_PARTS
    cut_off = f"```python\n{EXAMPLE_PARTS}"  # the model stopped before the closing fence
    assert code_from_answer(cut_off) == EXAMPLE_PARTS
    assert parts_problem(EXAMPLE_PARTS) is None


@pytest.mark.parametrize(("code", "problem"), [
    ("Sure! The generator converts seconds into hours.\n",
     "not Python: invalid syntax (line 1)"),
    ("def make_problem(rng, params)\n    return {}\n", "not Python: expected ':' (line 1)"),
    (EXAMPLE_PARTS.replace("def solve(problem):", "def answer(problem):"),
     "missing required function solve"),
    ("def make_problem(rng, params):\n    return {}\n",
     "missing required functions solve, question, checks"),
    ("x = '\0'\n", "not Python: source code string cannot contain null bytes"),
])
def test_parts_that_cannot_be_used_say_why_in_one_line(code: str, problem: str) -> None:
    assert parts_problem(code) == problem


def test_feedback_says_plainly_what_a_small_model_misses() -> None:
    plan = plan_from_answer(answer({"name": "zones", "kind": "int", "low": 1, "high": 3}),
                            SUB, "p-1")
    feedback = "- runs: 12 failures\n    seed 0, sample(): KeyError: 'max_seconds' (line 2)"
    assert with_hints(feedback, plan, EXAMPLE_PARTS, repeated=True).splitlines()[2:] == [
        "- params has no key 'max_seconds': its keys are 'zones'",
        "- seed 0 draws every parameter at its low: zones 1",
        """- line 2 of your code is: return {"seconds": rng.randint(1, params["max_seconds"])}""",
        "- this code was sent before and failed the same way: change it"]
    assert with_hints("- runs: KeyError: 'zones'", plan, EXAMPLE_PARTS, repeated=False) == (
        "- runs: KeyError: 'zones'")  # a key of the plan: the code's own mistake, no hint
    assert with_hints("", plan, EXAMPLE_PARTS, repeated=True) == ""
    unseeded = EXAMPLE_PARTS.replace("rng.randint(", "random.randint(")
    drifts = "- deterministic: 11 failures\n    seed 3: the same seed gave a different instance"
    assert with_hints(drifts, plan, unseeded, repeated=False).splitlines()[-1] == (
        "- draw every random value with rng (the random.Random make_problem gets), never with "
        "the random module")
    assert with_hints(drifts, plan, EXAMPLE_PARTS, repeated=False) == drifts
    # An answer drawn at random (the 1.5B's reading of "compute from problem"): solve is
    # named, and so asked for alone.
    guessing = EXAMPLE_PARTS.replace(
        '    hours, rest = divmod(problem["seconds"], 3600)\n',
        '    hours, rest = divmod(random.randint(0, 1800), 3600)\n')
    assert guessing != EXAMPLE_PARTS
    hinted = with_hints(drifts, plan, guessing, repeated=False)
    assert hinted.splitlines()[-1] == ("- solve(problem) computes the one right answer from "
                                       "the values in problem, with no randomness: fix solve()")
    assert failing_function(guessing, hinted) == "solve"
    tupled = "- runs: 12 failures\n    seed 0, sample(): TypeError: make_problem() must return a dict, not list"
    assert "not a namedtuple" in with_hints(tupled, plan, EXAMPLE_PARTS, repeated=False)


def test_a_complexity_of_its_own_that_does_not_spread_is_told_the_plans_largest_values() -> None:
    plan = plan_from_answer(answer(
        {"name": "zones", "kind": "int", "low": 1, "high": 3},
        {"name": "month", "kind": "choice", "choices": ["3", "10", "11"]},
        {"name": "weekend", "kind": "bool"}), SUB, "p-1")
    flat = ("- complexity_spread: 1 failure\n    no instance in the highest bin [0.667, 1]; "
            "highest is 0.0000")
    own = EXAMPLE_PARTS + "\n\ndef complexity(problem):\n    return 0.0\n"
    assert with_hints(flat, plan, own, repeated=False).splitlines()[2:] == [
        "- complexity(problem) must spread over [0, 1]: near 0 for the easiest problem the "
        "plan's parameters allow, near 1 for the hardest. Divide the value that makes a "
        "problem hard by its largest possible value (the plan allows up to: zones 3, month 11)"
        ", or leave complexity() out: where the parameters lie in their planned ranges is "
        "then the complexity"]
    # Without a complexity() of its own, the ranges are at fault: the plan is revised.
    assert with_hints(flat, plan, EXAMPLE_PARTS, repeated=False) == flat


def test_the_worked_example_copied_as_the_plan_is_told_apart() -> None:
    copied = {**EXAMPLE_PLAN, "description": EXAMPLE_PLAN["description"].upper()}
    subtask = {"name": SUB.name, "description": SUB.description}
    assert "is the example's, copied" in copies_the_example(copied, subtask)
    own = answer({"name": "zones", "kind": "int", "low": 1, "high": 3})
    assert copies_the_example(own, subtask) == ""
    # a subtask about means may take the example as its plan
    assert copies_the_example(copied, {"name": "Means", "description": "the mean of a list"}
                              ) == ""


def test_an_item_verdict_that_names_nothing_wrong_does_not_fail_the_item() -> None:
    samples = [RenderedSample(seed=s, question="Convert 61 seconds. Answer as H:MM:SS.",
                              choices=None, answer="0:01:01", params={}) for s in (1, 2, 3, 4)]
    asks = "a conversion"
    checks, lines = item_verdicts(samples, [], [
        # rote: names a failure, says nothing is wrong
        {"question_asks": asks, "missing_or_wrong": "nothing", "verdict": "unclear"},
        {"question_asks": asks, "missing_or_wrong": "The answer format is never given.",
         "verdict": "incomplete"},
        {"question_asks": asks, "missing_or_wrong": "nothing", "verdict": "fine"},
        {"question_asks": asks, "missing_or_wrong": "none", "verdict": "inconsistent"}])
    assert lines == ["- item 2 (seed 2): completeness: The answer format is never given."]
    assert {c.check: c.status for c in checks} == {
        "planned_checks": "passed", "clarity": "passed", "completeness": "failed",
        "consistency": "passed"}


@pytest.mark.parametrize(("words", "media"), [
    ("Causal reasoning over video clips", ["video"]),
    ("Describe what a photo shows", ["image"]),
    ("Transcribe spoken numbers", ["audio"]),
    ("Schedule a call across time zones on a daylight-saving change", []),
    ("Write 300 words that follow five formatting constraints", []),
])
def test_synthesis_is_not_attempted_for_a_subtask_whose_words_ask_for_media(
        words: str, media: list[str]) -> None:
    sub = Subtask(name=words, description=words, capability="", answer_format="any")
    assert media_needed(sub) == media


def test_a_parameter_read_under_a_near_name_is_renamed_to_the_plans() -> None:
    code = ('def sample(rng, params):\n'
            '    s = rng.randint(0, params["max_seconds"])\n'
            "    m = params.get('minutes', 3)\n"
            '    return {"s": s, "h": params[\'max_hours\'], "z": params["zzz"]}\n')
    fixed, renamed = renamed_params(code, ["seconds", "minutes", "hours"])
    assert renamed == {"max_seconds": "seconds", "max_hours": "hours"}  # zzz: nothing close
    assert 'params["seconds"]' in fixed and "params['hours']" in fixed
    assert 'params["zzz"]' in fixed and "params.get('minutes', 3)" in fixed
    assert renamed_params("def broken(:\n", ["a"]) == ("def broken(:\n", {})


def test_a_plan_to_revise_is_shown_in_the_shape_of_an_answer() -> None:
    """The P-Agent revises its own answer: names stay names (shown as the parts prompt
    describes them, a small model took "seconds (int from 0 to 60)" for a name)."""
    plan = plan_from_answer(answer(
        {"name": "zones", "kind": "int", "low": 1, "high": 3, "description": "zones crossed"},
        {"name": "month", "kind": "choice", "choices": ["3", "10"]}), SUB, "p-1")
    shown = plan_answer(plan)
    assert [p["name"] for p in shown["params"]] == ["zones", "month"]
    assert plan_from_answer(shown, SUB, "p-1") == plan


def test_a_scorer_that_raises_on_a_blind_answer_is_a_failure_with_why_not_a_crash() -> None:
    """A module's accepts() that cannot read some text fails the item stage with the error
    (run in the real sandbox), instead of failing the Grounding handler."""
    fragile = EXAMPLE_PARTS.replace(
        '    parts = response.strip().rstrip(".").split(":")',
        '    if "about" in response:\n        raise ValueError("cannot read %r" % response)\n'
        '    parts = response.strip().rstrip(".").split(":")')
    plan = plan_from_answer(answer({"name": "max_seconds", "kind": "choice",
                                    "choices": ["59", "3599"]}), SUB, "p-1")
    source = compose(fragile, param_specs(plan.params))
    samples, problems = render_samples(plan, source, 2)
    assert len(samples) == 2 and not problems
    first = easiest(samples)
    assert first is not None
    blind = score_blind(plan, source, first, "about an hour")
    assert not blind.correct and "cannot read 'about an hour'" in blind.error
    checks, lines = item_verdicts(samples, [], [], blind)
    assert [c.status for c in checks if c.check == "blind_answer"] == ["failed"]
    assert lines[-1].startswith("- blind_answer: scoring a model's answer 'about an hour' to "
                                f"item {samples.index(first) + 1} raised: ")
    assert score_blind(plan, source, first, first.answer).correct  # its own target, accepted


def test_allowed_modules_used_but_never_imported_are_imported_first() -> None:
    code = ("from datetime import date\n\ndef solve(problem):\n"
            "    day = calendar.day_name[date(2024, 1, 1).weekday()]\n"
            "    return datetime.timedelta(days=1), day, os.sep\n\n"
            "def question(string):\n    return string\n")
    fixed, added = with_imports(code)
    # datetime is used by name though only `date` was imported; os is not allowed (the
    # checker says so); `string` is an argument where it is used, not the module.
    assert added == ["calendar", "datetime"]
    assert fixed == "import calendar\nimport datetime\n" + code
    assert with_imports(EXAMPLE_PARTS) == (EXAMPLE_PARTS, [])
    # Imported inside one function, used in another: not bound where it is used.
    inside = ("def a():\n    import datetime\n    return datetime.date.today()\n\n"
              "def b(x):\n    return datetime.datetime.strptime(x, '%Y')\n")
    assert with_imports(inside) == ("import datetime\n" + inside, ["datetime"])
    assert with_imports("def broken(:\n") == ("def broken(:\n", [])
    # A docstring and `from __future__` lines stay first (anything before them is an error).
    future = '"""Coins."""\nfrom __future__ import annotations\nimport random\n\n' + inside
    fixed, _ = with_imports(future)
    assert fixed == ('"""Coins."""\nfrom __future__ import annotations\nimport datetime\n'
                     'import random\n\n' + inside)
    compile(fixed, "<parts>", "exec")


def test_the_function_a_failure_names_a_line_of_is_the_one_asked_for() -> None:
    assert failing_function(EXAMPLE_PARTS, "- runs: 3 failures\n    seed 0, sample(): "
                            "ValueError: x (line 6)") == "solve"
    # The template's own lines come after the parts: the first line of the parts counts.
    assert failing_function(EXAMPLE_PARTS, "    seed 0, verify(): ValueError: y (line 130)\n"
                            "    seed 0, verify(): ValueError: y (line 24)") == "checks"
    assert failing_function(EXAMPLE_PARTS, "- runs: KeyError: 'a' (line 2)") == "make_problem"
    assert failing_function(EXAMPLE_PARTS, "- complexity_spread: no spread") is None
    assert failing_function(EXAMPLE_PARTS, "- planned_checks: seed 1000: the question shows "
                            "none of the problem's values (seconds=5): fix question()") == (
        "question")
    assert failing_function(EXAMPLE_PARTS, "- x: fix nothing_of_its()") is None
    assert failing_function(EXAMPLE_PARTS, "- runs: x (line 4)") is None  # between functions


def test_one_function_answered_alone_replaces_its_namesake() -> None:
    previous = "import math\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
    answer = "import re\n\ndef a():\n    x = 5\n    return x\n\ndef c():\n    return 3\n"
    assert spliced(previous, answer) == (
        "import re\nimport math\n\ndef a():\n    x = 5\n    return x\n\n\n"
        "def b():\n    return 2\n\n\ndef c():\n    return 3\n")
    assert spliced(previous, EXAMPLE_PARTS) == EXAMPLE_PARTS  # a whole module stands alone
    assert spliced(previous, "not python at all") == "not python at all"


def test_the_parts_request_is_a_skeleton_of_this_plan_with_what_to_write_left_out() -> None:
    plan = plan_from_answer(answer({"name": "zones", "kind": "int", "low": 1, "high": 3,
                                    "description": "time zones crossed"}), SUB, "p-1")
    (check,) = plan.checks
    request = str(parts_messages(plan)[-1]["content"])
    assert "    # params['zones']: (int from 1 to 3) (time zones crossed)\n" in request
    # The problem starts as the parameters; solve and question read them as named locals,
    # and the question's TODO names the values to show.
    assert "    values = dict(params)  # the problem's values, by name\n" in request
    assert ("def solve(problem):\n    zones = problem['zones']\n"
            "    answer = TODO('the right answer for these values: Schedule a call.')\n"
            in request)
    assert ("def question(problem):\n    zones = problem['zones']\n"
            "    return TODO('an f-string question showing {zones}, saying how" in request)
    assert "def checks(problem, answer):\n    zones = problem['zones']\n    return [" in request
    assert (f"    return [\n        ({check.name!r}, TODO('condition'), 'a slot exists')]"
            in request)
    assert "mean" not in request  # no worked example for another plan to copy
    # A parameter that cannot be a local (a keyword, a name the skeleton uses) is not one.
    odd = plan_from_answer(answer({"name": "from", "kind": "int", "low": 1, "high": 3},
                                  {"name": "answer", "kind": "int", "low": 1, "high": 3}),
                           SUB, "p-2")
    compile(parts_skeleton(odd), "<skeleton>", "exec")
    assert "    from = " not in parts_skeleton(odd)
    # The skeleton is Python: sent back with a TODO left, the function holding it raises,
    # and that function is the one asked for.
    skeleton = parts_skeleton(plan)
    assert parts_problem(skeleton) is None
    report = check_generator(compose(skeleton, param_specs(plan.params)),
                             check_plan(plan, 2))
    feedback = report.feedback()
    assert "NotImplementedError: fill in TODO('the right answer for these values" in feedback
    assert failing_function(skeleton, feedback) == "solve"

def test_a_question_that_states_its_own_answer_is_told_apart() -> None:
    assert shows_answer("0 hours, 2 minutes, 7 seconds",
                        "... 0 hours, 2 minutes, 7 seconds")
    assert shows_answer("2024-03-01", "Is 2024-03-01 a date?")
    assert not shows_answer("0:02:07", "Convert 127 seconds into H:MM:SS.")
    # One number or word may rightly be a value the question shows.
    assert not shows_answer("9", "Which is the largest of 3, 9 and 4?")
    assert not shows_answer("980", "Give the change for 980 in coins.")


def test_a_question_that_shows_none_of_its_problems_values_is_named() -> None:
    problem = {"seconds": 798, "unit": "s", "strict": True, "parts": [{"h": 0.25}]}
    assert unseen_values(problem, "Convert the given seconds into H:MM:SS.") == (
        "seconds=798, unit='s', h=0.25")
    assert unseen_values(problem, "Convert 798 seconds into H:MM:SS.") == ""
    assert unseen_values({"share": 0.25}, "What is 0.25 of 8?") == ""
    assert unseen_values({}, "What day is it?") == ""  # nothing to show


def test_own_checks_that_fail_alone_are_asked_for_with_the_values_they_get() -> None:
    plan = plan_from_answer(answer({"name": "zones", "kind": "int", "low": 1, "high": 3}),
                            SUB, "p-1")
    only = ("- self_checks: 12 failures on seeds 0, 1\n    seed 0: valid: x (problem "
            "{'seconds': 5}, answer '0:00:05')")
    hinted = with_hints(only, plan, EXAMPLE_PARTS, repeated=False)
    assert hinted.endswith("write each condition for those values; fix checks()")
    assert failing_function(EXAMPLE_PARTS, hinted) == "checks"
    both = "- runs: 1 failure on seed 3\n    seed 3, sample(): x\n" + only
    assert "fix checks()" not in with_hints(both, plan, EXAMPLE_PARTS, repeated=False)


def test_a_plan_that_names_none_of_its_subtasks_words_is_off_target() -> None:
    words = Subtask(name="write-300-words-that-follow-five-formatt",
                    description="write 300 words that follow five formatting constraints",
                    capability="write 300 words that follow five formatting constraints",
                    answer_format="any")
    summing = plan_from_answer({**answer({"name": "range_min", "kind": "int", "low": 1,
                                          "high": 100, "description": "The smallest value"}),
                                "description": "Calculate the sum of two numbers."},
                               words, "p-1")
    assert off_target(summing, words).startswith("the plan ('Calculate the sum of two "
                                                 "numbers.') names none of the words")
    counting = plan_from_answer({**answer({"name": "word_count", "kind": "int", "low": 50,
                                           "high": 300}), "description": "Count words."},
                                words, "p-2")
    assert off_target(counting, words) == ""
    # What the plan's parameters name counts too ("zones" for time zones).
    zones = plan_from_answer(answer({"name": "zones", "kind": "int", "low": 1, "high": 3}),
                             SUB, "p-3")
    assert off_target(zones, SUB) == ""


def test_a_parameter_used_where_it_was_never_read_is_read_for_the_model() -> None:
    # The 1.5B's checks used `seconds` as solve and question had it (read into a local).
    code = ("def solve(problem):\n    seconds = problem['seconds']\n    return seconds\n\n\n"
            "def checks(problem, answer):\n    \"\"\"Own checks.\"\"\"\n"
            "    return [('valid', seconds >= 0 and unit == 's', 'ok')]\n\n\n"
            "def question(problem):\n    return f'{seconds}'\n\n\n"
            "def helper(x):\n    return seconds\n")
    fixed, added = with_unpacked(code, ["seconds", "unit", "zones"])
    assert added == ["checks:seconds", "checks:unit", "question:seconds"]
    assert ("def checks(problem, answer):\n    \"\"\"Own checks.\"\"\"\n"
            "    seconds = problem['seconds']\n    unit = problem['unit']\n    return [" in fixed)
    assert "def question(problem):\n    seconds = problem['seconds']\n    return f" in fixed
    assert "def helper(x):\n    return seconds\n" in fixed  # no problem to read it from
    compile(fixed, "<parts>", "exec")
    assert with_unpacked(fixed, ["seconds", "unit"]) == (fixed, [])
    assert with_unpacked("def broken(:\n", ["seconds"]) == ("def broken(:\n", [])
