"""Prompts of generator synthesis: the plan (P-Agent), the template's parts (G-Agent) and the
model-based checks of rendered items (V-Agent: clarity, completeness, consistency).

Kept short: the local 1.5B backbone reads every token of them on two shared cores.
"""

from __future__ import annotations

import keyword
from typing import Any

import msgspec

from agents.prompts.common import clip, facts_block, messages, obj, text
from agents.synthesis.plan import describe_param
from store.events import PARAM_KINDS, GeneratorPlan
from tools.sandbox.template import INSTRUCTIONS

PLAN = "synthesis.plan"
PARTS = "synthesis.parts"
ITEM_CHECK = "synthesis.item_check"
ITEM_SOLVE = "synthesis.item_solve"

METRIC_CHOICES = ["exact_match", "accepts", "multiple_choice"]
ITEM_CHECKS = ["clarity", "completeness", "consistency"]

PLAN_SCHEMA = obj(
    {
        "description": text(200),
        "params": {"type": "array", "maxItems": 4, "items": obj({
            "name": text(30),
            "kind": {"enum": list(PARAM_KINDS)},
            "low": {"type": "number"},
            "high": {"type": "number"},
            "choices": {"type": "array", "maxItems": 8, "items": text(40)},
            "description": text(100),
        })},
        "constraints": {"type": "array", "maxItems": 4, "items": text(120)},
        "checks": {"type": "array", "maxItems": 3,
                   "items": obj({"name": text(30), "description": text(120)})},
        "complexity": text(150),
        "metric": {"enum": METRIC_CHOICES},
    },
    title=PLAN,
)

_PLAN_SYSTEM = (
    "You are the planning agent of a benchmark builder. You plan a Python generator that "
    "creates problems for one subtask and computes each answer by code. Answer with JSON only."
)


# A plan for another subtask, shown to the P-Agent (the code for it is
# tools/sandbox/template.py PROMPT_EXAMPLE_PARTS): far from any likely subtask, so that
# copying it is plainly wrong.
EXAMPLE_PLAN: dict[str, Any] = {
    "description": "Give the mean of a list of whole numbers, to one decimal.",
    "params": [{"name": "max_count", "kind": "int", "low": 2, "high": 8,
                "description": "most numbers in the list"},
               {"name": "max_value", "kind": "choice", "choices": ["10", "100", "1000"],
                "description": "largest number drawn"}],
    "constraints": ["the list has at least two numbers"],
    "checks": [{"name": "consistency",
                "description": "the mean lies between the smallest and the largest number"}],
    "complexity": "more and larger numbers are harder: where max_count and max_value lie in "
                  "their ranges",
    "metric": "exact_match",
}


def _words(text: object) -> str:
    return " ".join(str(text or "").lower().replace(".", " ").split())


def copies_the_example(answer: dict[str, Any], subtask: dict[str, Any]) -> str:
    """Why a plan is the worked example's, copied, instead of the subtask's ("" if it is not).

    The small local models often return `EXAMPLE_PLAN` word for word, whatever the subtask:
    a plan for the mean of numbers then grounds "schedule a call across time zones". A
    subtask that is about means may take the example as its plan."""
    if _words(answer.get("description")) != _words(EXAMPLE_PLAN["description"]):
        return ""
    if "mean" in _words(" ".join(str(v) for v in subtask.values())).split():
        return ""
    return f"its description {EXAMPLE_PLAN['description']!r} is the example's, copied"


def plan_answer(plan: GeneratorPlan) -> dict[str, Any]:
    """A plan in the shape of the P-Agent's answer (`PLAN_SCHEMA`), to be revised."""
    return {
        "description": plan.description,
        "params": [{k: v for k, v in msgspec.to_builtins(p).items() if v is not None}
                   for p in plan.params],
        "constraints": plan.constraints,
        "checks": [{"name": c.name, "description": c.description} for c in plan.checks],
        "complexity": plan.complexity, "metric": plan.metric,
    }


def plan_messages(subtask: dict[str, Any], problem: str = "",
                  previous: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The P-Agent's request; `previous` (with `problem`): a plan to revise, and why."""
    ask = (
        "Plan a generator for this subtask: what one problem asks; its parameters: settings "
        "that shape the problems (kind int or float with a low and a high, choice with its "
        "choices, or bool), while each problem's own values are drawn at random by the code "
        "within them; the constraints every problem satisfies; the checks its code runs on "
        "each problem (a short name and what it verifies); how a complexity in [0, 1] is "
        "computed from a problem, spread from easy (0) to hard (1); the metric: exact_match "
        "(one right answer text), accepts (code decides whether a response is right, e.g. "
        "writing that must follow checkable rules) or multiple_choice."
    )
    facts: dict[str, Any] = {"subtask": subtask, "example_plan_for_another_subtask": EXAMPLE_PLAN}
    if previous is not None:
        facts["your_previous_plan"] = previous
        facts["revise_it_because"] = problem
    elif problem:
        facts["your_previous_plan_was_refused"] = problem
    return messages(_PLAN_SYSTEM, ask, facts)


PARTS_SYSTEM = ("You write Python code for a benchmark generator. Reply with one ```python "
                "code block and nothing else.")

_METRIC_PARTS = {
    "exact_match": "The answer is one right text: define format_answer if str(answer) is "
                   "not that text.",
    "accepts": "Define accepts(problem, answer, response): whether a response is right; the "
               "answer from solve must itself be a response that accepts takes.",
    "multiple_choice": "Define distractors(problem, answer, rng): three wrong answers.",
}


def plan_doc(plan: GeneratorPlan) -> dict[str, Any]:
    """The plan as the parts prompt and the item checks show it."""
    return {
        "description": plan.description,
        "params": [describe_param(p) + (f": {p.description}" if p.description else "")
                   for p in plan.params],
        "constraints": plan.constraints,
        "checks": {c.name: c.description for c in plan.checks},
        "complexity": plan.complexity,
        "metric": plan.metric,
    }


_METRIC_SKELETON = {
    "multiple_choice": "\n\ndef distractors(problem, answer, rng):\n"
                       "    return TODO('three wrong answers, each different from answer')\n",
    "accepts": "\n\ndef accepts(problem, answer, response):\n"
               "    return TODO('whether response is a right answer to problem')\n",
}


def _local_name(name: str) -> bool:
    """Whether a parameter's name can be a local variable of the skeleton's functions."""
    return (name.isidentifier() and not keyword.iskeyword(name)
            and name not in ("problem", "answer", "rng", "params", "values", "TODO"))


def parts_skeleton(plan: GeneratorPlan) -> str:
    """The parts to write, for this plan: its parameters in make_problem, its description in
    solve, its checks by name in checks(); what the model writes is left as TODO('...').

    make_problem starts from the parameters themselves (the 1.5B, asked to draw a problem
    "within the params", drew the answer's parts — hours, minutes — and lost the seconds
    the question was about), and the question's TODO names the values it must show.

    TODO is the template's (it raises "fill in: ..."): a skeleton sent back partly filled is
    still Python, so the function that still holds one is named by the run that raised, and
    asked for alone. It replaces a worked example for another plan, which the 1.5B copied
    into every plan it was given (the example's question format, its check and its min/max,
    under a duration question)."""
    knobs = "\n".join(f"    # params[{p.name!r}]: {describe_param(p)[len(p.name) + 1:]}"
                      + (f" ({p.description[:80]})" if p.description else "")
                      for p in plan.params) or "    # (no parameters)"
    rows = ",\n".join(f"        ({c.name!r}, TODO('condition'), {c.description[:80]!r})"
                      for c in plan.checks) or "        ('consistency', TODO('condition'), '')"
    # Each parameter unpacked into a local of its name: what to compute reads as an
    # ordinary function of named values (asked to "compute from problem", the 1.5B drew a
    # random answer).
    local = [p.name for p in plan.params if _local_name(p.name)]
    unpacked = "".join(f"    {name} = problem[{name!r}]\n" for name in local)
    named = ", ".join("{" + name + "}" for name in local)
    shown = named or "the problem's values"
    return (
        "def make_problem(rng, params):\n" + knobs + "\n"
        "    values = dict(params)  # the problem's values, by name\n"
        "    # add any value the question needs that is drawn with rng or computed from params\n"
        "    return values\n\n\n"
        "def solve(problem):\n" + unpacked
        + f"    answer = TODO({('the right answer for these values: ' + plan.description[:120])!r})\n"
        "    return answer\n\n\n"
        "def question(problem):\n" + unpacked
        + f"    return TODO({('an f-string question showing ' + shown + ', saying how to write the answer')!r})\n\n\n"
        "def checks(problem, answer):\n" + unpacked
        + "    return [\n" + rows + "]\n"
        + _METRIC_SKELETON.get(plan.metric, "")
    )


def parts_messages(plan: GeneratorPlan, previous: str = "", feedback: str = "",
                   focus: str | None = None) -> list[dict[str, Any]]:
    """The G-Agent's request: the template's instructions, the plan, its skeleton;
    from the second attempt on, its previous code and what the checks said about it, and
    when the failure lies in one function (`focus`), a request for that function alone;
    without `previous` (the model sent the same code twice), the feedback alone."""
    user = (
        f"{INSTRUCTIONS}\n{_METRIC_PARTS.get(plan.metric, '')}\n"
        + "The plan:\n" + facts_block(plan_doc(plan)) + "\n\n"
        + "Fill in this skeleton: replace every TODO(...) with Python, keep the check names.\n"
        + "```python\n" + parts_skeleton(plan) + "```"
    )
    if previous:
        # Asked for the whole code again, the small models send the previous code back
        # unchanged; asked for the one function that raised, they rewrite it.
        ask = (f"Write only a corrected {focus}(...) function, with any import it needs: the "
               "other functions stay as they are." if focus else
               "Write the whole corrected code.")
        user += ("\n\nYour previous code:\n```python\n" + previous.rstrip("\n") + "\n```\n"
                 "It failed these checks:\n" + clip(feedback, 1500) + "\n" + ask)
    elif feedback:
        # Shown its previous code, a small model copies it back even when sampling: after a
        # repeat it is shown only what went wrong.
        user += ("\n\nAn earlier attempt failed these checks:\n" + clip(feedback, 1500)
                 + "\nWrite the whole code again, differently, so that they pass.")
    return [{"role": "system", "content": PARTS_SYSTEM}, {"role": "user", "content": user}]


# One item per request: judging several in one answer, the small models named a different
# failing check for each item by position, whatever the items said. The item is described
# before the verdict, and the verdict's words are plain ("fine" rather than "none", which the
# 1.5B copied into its reason).
VERDICTS = {"fine": None, "unclear": "clarity", "incomplete": "completeness",
            "inconsistent": "consistency"}
ITEM_CHECK_SCHEMA = obj({"question_asks": text(160), "missing_or_wrong": text(160),
                         "verdict": {"enum": list(VERDICTS)}}, title=ITEM_CHECK)

_CHECK_SYSTEM = ("You check a benchmark item made by a generator, before it is used. "
                 "Answer with JSON only.")


def item_check_messages(plan: GeneratorPlan, item: dict[str, Any]) -> list[dict[str, Any]]:
    return messages(
        _CHECK_SYSTEM,
        "Read this item. Say what its question asks, then what is missing or wrong in it "
        "(\"nothing\" if nothing is), then your verdict: fine; unclear (it can be read in more "
        "than one way); incomplete (a value or rule needed to answer it is not given); "
        "inconsistent (its values disagree with its parameters, or the answer is not right).",
        {"generator": {"description": plan.description, "constraints": plan.constraints},
         "item": item},
    )


# The easiest rendered item, answered without its target: the generator's own scorer then
# says whether the answer is right. A code whose solve() computes another thing than its
# question asks ("Convert 20 minutes" answered as 20 seconds) passes every check of its own.
ITEM_SOLVE_SCHEMA = obj({"working": text(300), "answer": text(120)}, title=ITEM_SOLVE)


def item_solve_messages(question: str, choices: list[str] | None) -> list[dict[str, Any]]:
    return messages(
        "You answer benchmark questions. Answer with JSON only.",
        "Answer this question: work it out briefly, then give the answer exactly in the "
        "format the question asks for.",
        {"question": question, **({"choices": choices} if choices else {})},
    )
