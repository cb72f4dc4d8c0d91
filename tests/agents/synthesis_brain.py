"""A scripted model that plans and writes synthesized generators (for the synthesis tests).

`SynthesisBrain(attempts=[...])` answers like `ScriptedBrain`, plus:
- Design proposes two duration subtasks and keeps them; a revision after a grounding failure
  keeps them too (the subtasks are fine: their generator was not);
- every pool plan scores 1 on alignment (Score-and-Filter drops them all) unless `pool_ok`;
- `synthesis.plan`: a duration generator (a choice parameter, max_seconds, and an int one,
  min_seconds, that the code ignores); `first_param`: its first plan's max_seconds
  instead, which a revision sets back to the usual one;
- the template's parts: the variants of `attempts`, in order: attempt n (the request shows
  the previous code, whose `# variant:` marker says which it was, or only the feedback, which
  says which variant failed) gets the next one; the last repeats. Variants: `good` (the template's worked example), `minutes_as_seconds` (asks
  for minutes, answers as if seconds), `units` (good, with a
  complexity of its own: the units the answer needs), `imports` (imports os), `vague`
  (its question names no answer format: the item judge fails completeness), `not_python`,
  `with_digits` (good, plus the check `digits` a developer may ask for), `no_import` (uses
  math without importing it), `raises_in_solve` (its solve() raises on every seed),
  `no_values` (its question leaves out the seconds); asked for a corrected solve() or
  question() alone, the template's own;
- `synthesis.item_check`: completeness fails for an item whose question names no answer format;
- `synthesis.item_solve`: the right H:MM:SS of the duration a question names;
- free-text questions: the right H:MM:SS when `oracle`, else as ScriptedBrain.
"""

from __future__ import annotations

import re
from typing import Any

from agents.prompts.synthesis import PARTS_SYSTEM
from tests.agents.scripted_brain import ScriptedBrain
from tools.sandbox.template import EXAMPLE_PARTS

SUBTASKS = [
    {"name": "Duration conversion",
     "description": "Convert a duration given in seconds into hours, minutes and seconds.",
     "capability": "unit arithmetic", "answer_format": "short_answer",
     "distinct_focus": "hours, minutes and seconds as three numbers"},
    {"name": "Clock notation",
     "description": "Write a number of seconds as a clock reading H:MM:SS.",
     "capability": "clock time formatting", "answer_format": "short_answer",
     "distinct_focus": "the H:MM:SS notation"},
]

VARIANTS: dict[str, str] = {
    "good": "# variant: good\n" + EXAMPLE_PARTS,
    "imports": "# variant: imports\nimport os\n\n" + EXAMPLE_PARTS,
    "vague": "# variant: vague\n" + EXAMPLE_PARTS.replace(" Answer as H:MM:SS.", ""),
    "not_python": "# variant: not_python\ndef make_problem(rng, params) return rng\n",
    # Asks for minutes, computes as if they were seconds: every check of its own passes.
    "minutes_as_seconds": "# variant: minutes_as_seconds\n" + EXAMPLE_PARTS.replace(
        "Convert %d seconds into", "Convert %d minutes into"),
    # Its own complexity: the units the answer needs, which only seconds past an hour max out.
    "units": "# variant: units\n" + EXAMPLE_PARTS + (
        "\n\ndef complexity(problem):\n"
        "    seconds = problem[\"seconds\"]\n"
        "    return 0.0 if seconds < 60 else 0.5 if seconds < 3600 else 1.0\n"),
    # Uses math without importing it (the template imports it for the model).
    "no_import": "# variant: no_import\n" + EXAMPLE_PARTS.replace(
        'hours, rest = divmod(problem["seconds"], 3600)',
        'hours = math.floor(problem["seconds"] / 3600)\n    rest = problem["seconds"] % 3600'),
    # solve() unpacks two values into three names: it raises on every seed.
    "raises_in_solve": "# variant: raises_in_solve\n" + EXAMPLE_PARTS.replace(
        "    minutes, seconds = divmod(rest, 60)\n    return [hours, minutes, seconds]",
        "    minutes, seconds, extra = divmod(rest, 60)\n    return [hours, minutes, seconds]"),
    # Its question leaves out the number of seconds to convert.
    "no_values": "# variant: no_values\n" + EXAMPLE_PARTS.replace(
        'return ("Convert %d seconds into hours, minutes and seconds. Answer as H:MM:SS."\n'
        '            % problem["seconds"])',
        'return "Convert the seconds into hours, minutes and seconds. Answer as H:MM:SS."'),
    "with_digits": "# variant: with_digits\n" + EXAMPLE_PARTS.replace(
        '''            ("feasibility", 0 <= minutes < 60 and 0 <= seconds < 60, "minutes and seconds < 60")]''',
        '''            ("feasibility", 0 <= minutes < 60 and 0 <= seconds < 60, "minutes and seconds < 60"),
            ("digits", len(str(seconds)) <= 2, "seconds fit in two digits")]'''),
}
_MARKER = re.compile(r"# variant: (\w+)")
# What the checker's feedback says about each failing variant.
_FAILS_WITH = {"imports": "'os'", "vague": "completeness:", "not_python": "- python:",
               "minutes_as_seconds": "blind_answer", "units": "- complexity_spread",
               "raises_in_solve": "not enough values to unpack",
               "no_values": "shows none of the problem's values"}
_SECONDS = re.compile(r"Convert (\d+) seconds")
_DURATION = re.compile(r"(\d+) (seconds|minutes)")


def _function(code: str, name: str) -> str:
    """The text of one top-level function of `code`."""
    start = code.index(f"def {name}(")
    end = code.find("\ndef ", start + 1)
    return code[start:] if end < 0 else code[start:end + 1]


class SynthesisBrain(ScriptedBrain):
    def __init__(self, attempts: list[str] | None = None, *, pool_ok: bool = False,
                 oracle: bool = False, first_param: dict[str, Any] | None = None,
                 off_target_plans: int = 0, unsure: bool = False) -> None:
        super().__init__(reject_percent=0, repair_percent=0)
        self.attempts = attempts or ["good"]
        self.pool_ok = pool_ok
        self.oracle = oracle
        self.first_param = first_param
        self.off_target_plans = off_target_plans  # plans of another task first (the 1.5B's)
        # a weak solver and judge: each blind answer wrong in a new way, each verdict a doubt
        # not held on a second reading
        self.unsure = unsure
        self.unsure_calls = 0
        self.readings: dict[str, int] = {}  # item question -> verdicts given on it

    def __call__(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None,
                 purpose: str | None = None) -> str:
        if schema is None and messages[0].get("content") == PARTS_SYSTEM:
            return self.parts(str(messages[-1]["content"]))
        return super().__call__(messages, schema, purpose)

    # -------------------------------------------------------------- design

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [dict(s) for s in SUBTASKS], "reason": "two views of one skill"}

    def design_review(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"reviews": [{"name": c["name"], "decision": "keep", "reason": "testable",
                             "revised": c} for c in f["candidates"]]}

    def design_revise(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"reviews": [{"name": x["subtask"]["name"], "decision": "keep",
                             "reason": "the subtask stands", "revised": x["subtask"]}
                            for x in f["failed"]]}

    # ----------------------------------------------------------- grounding

    def grounding_score(self, f: dict[str, Any]) -> dict[str, Any]:
        if self.pool_ok:
            return super().grounding_score(f)
        return {"alignment": 1, "robustness": 3, "signal_preservation": 2,
                "reason": "no dataset converts durations"}

    # ----------------------------------------------------------- synthesis

    def synthesis_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        if self.off_target_plans:
            self.off_target_plans -= 1
            return {"description": "Calculate the sum of two numbers.",
                    "params": [{"name": "range_min", "kind": "int", "low": 1, "high": 100,
                                "choices": [], "description": "The smallest value"},
                               {"name": "range_max", "kind": "int", "low": 1, "high": 100,
                                "choices": [], "description": "The largest value"}],
                    "constraints": [], "checks": [{"name": "sum_check",
                                                   "description": "the sum is right"}],
                    "complexity": "", "metric": "exact_match"}
        first = self.first_param if "revise_it_because" not in f else None
        return {
            "description": "Convert a duration given in seconds into H:MM:SS.",
            "params": [first or {"name": "max_seconds", "kind": "choice", "low": 0, "high": 0,
                                 "choices": ["59", "3599", "86399"],
                                 "description": "Largest number of seconds"},
                       {"name": "min_seconds", "kind": "int", "low": 1, "high": 1,
                        "choices": [], "description": "Smallest number of seconds"}],
            "constraints": ["minutes and seconds are below 60"],
            "checks": [{"name": "consistency", "description": "h:m:s adds up to the seconds"},
                       {"name": "feasibility", "description": "minutes and seconds below 60"}],
            "complexity": "how many units (h, m, s) the answer needs, scaled to [0, 1]",
            "metric": "exact_match",
        }

    def parts(self, request: str) -> str:
        previous = request.split("Your previous code:", 1)
        done = _MARKER.findall(previous[1]) if len(previous) > 1 else []
        if not done and "An earlier attempt failed these checks:" in request:
            # A fresh attempt shown only the feedback: which variant failed, by what it says.
            failed = request.split("An earlier attempt failed these checks:", 1)[1]
            done = [v for v in self.attempts if _FAILS_WITH.get(v, "\0") in failed][:1]
        index = 0 if not done else min(self.attempts.index(done[0]) + 1, len(self.attempts) - 1)
        for name in ("question", "solve"):  # asked for one function: the template's own
            if f"Write only a corrected {name}(" in request:
                return "```python\n" + _function(EXAMPLE_PARTS, name) + "```"
        if "the developer changed the plan's checks" in request:
            return f"```python\n{VARIANTS['with_digits']}```"
        return f"```python\n{VARIANTS[self.attempts[index]]}```"

    def synthesis_item_solve(self, f: dict[str, Any]) -> dict[str, Any]:
        """Answers a duration question right, whatever the unit it names."""
        if self.unsure:
            self.unsure_calls += 1
            return {"working": "a guess", "answer": f"{self.unsure_calls}:01:17"}
        found = _DURATION.search(str(f["question"]))
        if not found:
            return {"working": "no duration", "answer": "?"}
        seconds = int(found.group(1)) * (60 if found.group(2) == "minutes" else 1)
        hours, rest = divmod(seconds, 3600)
        return {"working": f"{seconds} seconds",
                "answer": f"{hours}:{rest // 60:02d}:{rest % 60:02d}"}

    def synthesis_item_check(self, f: dict[str, Any]) -> dict[str, Any]:
        asks = "a duration in hours, minutes and seconds"
        question = str(f["item"]["question"])
        self.readings[question] = self.readings.get(question, 0) + 1
        if self.unsure and self.readings[question] == 1:
            return {"question_asks": asks, "verdict": "incomplete",
                    "missing_or_wrong": "the given answer is '0 hours, 19:39', not complete"}
        if "H:MM:SS" not in f["item"]["question"]:
            return {"question_asks": asks, "verdict": "incomplete",
                    "missing_or_wrong": "the question does not say how to write the answer"}
        return {"question_asks": asks, "missing_or_wrong": "nothing", "verdict": "fine"}

    # ---------------------------------------------------------- evaluation

    def answer(self, messages: list[dict[str, Any]]) -> str:
        found = _SECONDS.search(str(messages[-1].get("content", "")))
        if self.oracle and found:
            hours, rest = divmod(int(found.group(1)), 3600)
            minutes, seconds = divmod(rest, 60)
            return f"{hours}:{minutes:02d}:{seconds:02d}"
        return super().answer(messages)

