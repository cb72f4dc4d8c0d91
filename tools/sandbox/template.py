"""The skeleton of a synthesized generator: the model writes only the parts that differ.

A model (BenchAgents' G-Agent) writes a few plain functions — how to sample a problem, how
to compute its answer, the question text, the complexity, its own checks — and
`compose(parts)` appends the fixed frame that turns them into the module contract of
`contract` (`sample`, `verify`, `score`, `render`). The frame does the rest the same way
every time: the seeded random stream, JSON round trips, consistency and complexity checks
(a complexity from where the parameters lie in their planned ranges, unless the parts
compute their own),
multiple-choice options and their letters, answer matching, media files.

`INSTRUCTIONS` is the text that tells a model what to write; `EXAMPLE_PARTS` is a worked
example (and what the tests check the frame with), planned with one parameter,
`EXAMPLE_PARAMS`. The parts come first in the composed
module, so the line numbers in a check report are the model's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tools.generators.base import ParamSpec
from tools.sandbox.allowlist import ALLOWED_MODULES

REQUIRED_PARTS = ("make_problem", "solve", "question", "checks")
OPTIONAL_PARTS = ("complexity", "distractors", "accepts", "format_answer", "media")

INSTRUCTIONS = f"""\
Write Python functions (no classes needed) for a benchmark generator. Plain functions only;
the code that calls them is fixed and appended after yours.

Required:
- make_problem(rng, params) -> dict: one problem instance as JSON-able data (str, int, float,
  bool, list, dict). Use ONLY `rng` (a random.Random) for randomness and `params` (a dict of
  the plan's parameters, already chosen) for settings.
- solve(problem) -> answer: the correct answer, computed by code from `problem` (JSON-able).
- question(problem) -> str: the full question text shown to the model under test, including
  the answer format you expect.
- checks(problem, answer) -> list of (name, passed, reason): your own verification, e.g.
  ("feasibility", True, "a solution exists"). Return at least one check.

Optional:
- complexity(problem) -> float: a difficulty measure in [0, 1], computed from `problem`.
  Without it, an instance's complexity is how far its parameters lie toward the highs of
  their planned ranges (0 at every low, 1 at every high): plan higher as harder.
- distractors(problem, answer, rng) -> list: wrong answers; if defined, the item becomes
  multiple choice (options A, B, C, ...). Each must differ from the answer and from each other.
- accepts(problem, answer, response) -> bool: whether a free-form response is correct
  (default: the response, lower-cased and with spaces collapsed, equals format_answer(answer)).
- format_answer(answer) -> str: the answer as the expected text (default: str(answer); a list
  is joined with ", ").
- media(problem) -> list of file names: draw images with PIL and save them in the current
  directory under these names.

Rules: import only {", ".join(ALLOWED_MODULES)}. No file access except saving media, no
printing, no eval/exec/getattr/globals, no names starting with "_" from modules. The same
rng and params must always give the same problem.
"""

EXAMPLE_PARTS = '''\
def make_problem(rng, params):
    return {"seconds": rng.randint(1, params["max_seconds"])}


def solve(problem):
    hours, rest = divmod(problem["seconds"], 3600)
    minutes, seconds = divmod(rest, 60)
    return [hours, minutes, seconds]


def format_answer(answer):
    return "%d:%02d:%02d" % tuple(answer)


def question(problem):
    return ("Convert %d seconds into hours, minutes and seconds. Answer as H:MM:SS."
            % problem["seconds"])


def checks(problem, answer):
    hours, minutes, seconds = answer
    total = hours * 3600 + minutes * 60 + seconds
    return [("consistency", total == problem["seconds"], "h:m:s adds up to the seconds"),
            ("feasibility", 0 <= minutes < 60 and 0 <= seconds < 60, "minutes and seconds < 60")]


def accepts(problem, answer, response):
    parts = response.strip().rstrip(".").split(":")
    return len(parts) == 3 and all(p.strip().isdigit() for p in parts) and (
        [int(p) for p in parts] == answer)
'''

EXAMPLE_PARAMS = [
    ParamSpec(name="max_seconds", kind="choice", choices=[59, 3599, 86399],
              description="Largest number of seconds to convert"),
]

# The example a model is shown (agents/prompts/synthesis.py): far from any requirement it may
# get, because the small local models copy what they are shown — given the duration example
# for "minutes into hours and minutes" they kept its seconds arithmetic under a minutes
# question, and no feedback moved them off it.
PROMPT_EXAMPLE_PARTS = '''\
def make_problem(rng, params):
    count = rng.randint(2, params["max_count"])
    return {"numbers": [rng.randint(1, params["max_value"]) for _ in range(count)]}


def solve(problem):
    return round(sum(problem["numbers"]) / len(problem["numbers"]), 1)


def format_answer(answer):
    return "%.1f" % answer


def question(problem):
    numbers = ", ".join(str(n) for n in problem["numbers"])
    return "What is the mean of %s? Answer with one decimal, e.g. 4.0." % numbers


def checks(problem, answer):
    numbers = problem["numbers"]
    return [("consistency", min(numbers) <= answer <= max(numbers),
             "the mean lies between the smallest and the largest number")]
'''

PROMPT_EXAMPLE_PARAMS = [
    ParamSpec(name="max_count", kind="int", low=2, high=8, description="most numbers"),
    ParamSpec(name="max_value", kind="choice", choices=[10, 100, 1000],
              description="largest number drawn"),
]

FRAME = '''

# ---- fixed by the template (tools/sandbox/template.py): not written by the model ----
import json as _json
import random as _random
import re as _re

def TODO(what):
    """What the parts skeleton leaves to write (agents/prompts/synthesis.py), left unwritten."""
    raise NotImplementedError("fill in TODO(%r)" % (what,))


try:
    _COMPLEXITY = complexity
except NameError:
    _COMPLEXITY = None
try:
    _DISTRACTORS = distractors
except NameError:
    _DISTRACTORS = None
try:
    _ACCEPTS = accepts
except NameError:
    _ACCEPTS = None
try:
    _FORMAT = format_answer
except NameError:
    _FORMAT = None
try:
    _MEDIA = media
except NameError:
    _MEDIA = None

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LEAD_LETTER = _re.compile(r"^\\s*(?:answer\\s*[:is]*\\s*)?\\(?([A-Za-z])\\)?(?=$|[.):,\\s])", _re.I)
_ANSWER_IS = _re.compile(r"answer\\s*(?:is|:)\\s*\\(?([A-Za-z])\\)?(?=$|[.):,\\s])", _re.I)


def _plain(value):
    """The value as JSON would carry it (tuples become lists)."""
    return _json.loads(_json.dumps(value))


def _text(answer):
    if _FORMAT is not None:
        return str(_FORMAT(answer))
    if isinstance(answer, list):
        return ", ".join(str(a) for a in answer)
    return str(answer)


def _norm(text):
    return " ".join(str(text).lower().strip().rstrip(".").split())


def _problem(instance):
    return instance["content"]["problem"]


def _share(spec, value):
    """Where a parameter's value lies in its planned range: 0 at the low, 1 at the high."""
    if spec["kind"] == "bool":
        return 1.0 if value else 0.0
    if spec["kind"] == "choice":
        order = spec["choices"]
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in order):
            order = sorted(order)
        if value not in order or len(order) < 2:
            return None
        return order.index(value) / (len(order) - 1)
    low, high = spec["low"], spec["high"]
    if not isinstance(value, (int, float)) or high <= low:
        return None
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _complexity(problem, params):
    if _COMPLEXITY is not None:
        return float(_COMPLEXITY(problem))
    shares = [_share(spec, params.get(spec["name"])) for spec in _PLANNED]
    shares = [x for x in shares if x is not None]
    return sum(shares) / len(shares) if shares else 0.0


def sample(seed, params):
    rng = _random.Random(str(seed) + ":" + _json.dumps(params, sort_keys=True))
    problem = _plain(make_problem(rng, dict(params)))
    if not isinstance(problem, dict):  # said here, not where solve() first trips on it
        raise TypeError("make_problem() must return a dict, not %s: fix make_problem()"
                        % type(problem).__name__)
    answer = _plain(solve(problem))
    content = {"problem": problem}
    if _DISTRACTORS is not None:
        options = [_text(answer)] + [_text(w) for w in _DISTRACTORS(problem, answer, rng)]
        order = list(range(len(options)))
        rng.shuffle(order)
        content["options"] = [options[i] for i in order]
        content["correct"] = order.index(0)
    return {"content": content, "answer": answer, "complexity": _complexity(problem, params)}


def verify(instance):
    problem, answer = _problem(instance), instance["answer"]
    results = []
    again = _plain(solve(problem))
    results.append({"check": "consistency", "passed": again == answer,
                    "reason": "stored answer %r, recomputed %r" % (answer, again)})
    c = _complexity(problem, instance.get("params") or {})
    results.append({"check": "complexity",
                    "passed": 0.0 <= c <= 1.0 and abs(c - instance["complexity"]) < 1e-9,
                    "reason": "stored %r, recomputed %r" % (instance["complexity"], c)})
    options = instance["content"].get("options")
    if options is not None:
        distinct = len({_norm(o) for o in options}) == len(options)
        right = options[instance["content"]["correct"]] == _text(answer)
        results.append({"check": "options", "passed": distinct and right and len(options) > 1,
                        "reason": "%d options, distinct: %s, correct one is the answer: %s"
                                  % (len(options), distinct, right)})
    for row in checks(problem, answer):
        # A check without its reason is still a check (the small models often leave it out).
        if not isinstance(row, (list, tuple)) or len(row) not in (2, 3):
            raise TypeError("checks() must return (name, passed, reason) tuples, not %r"
                            % (row,))
        name, passed, reason = (list(row) + [""])[:3]
        results.append({"check": str(name), "passed": bool(passed), "reason": str(reason)})
    return results


def _chosen(response, options):
    for pattern in (_LEAD_LETTER, _ANSWER_IS):
        found = pattern.search(response.strip())
        if found and _LETTERS.index(found.group(1).upper()) < len(options):
            return found.group(1).upper()
    said = _norm(response)
    matches = [i for i, o in enumerate(options) if _norm(o) == said]
    return _LETTERS[matches[0]] if len(matches) == 1 else None


def score(instance, response):
    problem, answer = _problem(instance), instance["answer"]
    options = instance["content"].get("options")
    if options is not None:
        expected = _LETTERS[instance["content"]["correct"]]
        picked = _chosen(response, options)
        correct = picked == expected
        detail = {"expected": expected, "picked": picked}
    else:
        expected = _text(answer)
        if _ACCEPTS is not None:
            correct = bool(_ACCEPTS(problem, answer, response))
        else:
            said = _norm(response)
            found = _re.findall(r"answer\\s*(?:is|:)\\s*(.+)", said)
            correct = said == _norm(expected) or bool(found) and _norm(found[-1]) == _norm(expected)
        detail = {"expected": expected}
    return {"correct": correct, "score": 1.0 if correct else 0.0, "detail": detail}


def render(instance):
    problem, answer = _problem(instance), instance["answer"]
    text = question(problem)
    options = instance["content"].get("options")
    if options is not None:
        lines = ["%s. %s" % (_LETTERS[i], o) for i, o in enumerate(options)]
        text = text + "\\n\\nOptions:\\n" + "\\n".join(lines) + (
            "\\n\\nAnswer with the letter of the correct option.")
        target = _LETTERS[instance["content"]["correct"]]
    else:
        target = _text(answer)
    files = [str(name) for name in _MEDIA(problem)] if _MEDIA is not None else []
    return {"input": text, "target": target, "choices": options, "media": files}
'''


def compose(parts: str, params: Sequence[ParamSpec] = ()) -> str:
    """The full module: the model's parts first (so its line numbers hold), then the frame,
    which knows the planned parameters (`params`) to compute a complexity the parts leave
    out."""
    planned = [{"name": p.name, "kind": p.kind, "low": p.low, "high": p.high,
                "choices": p.choices} for p in params]
    return (parts.rstrip() + "\n" + FRAME
            + f"\n_PLANNED = _json.loads({json.dumps(json.dumps(planned, sort_keys=True))})\n")
