"""Constrained long-form text generation (BA-Text, BenchAgents §4.2 and appendix A.2).

Parameters are the paper's: the user, their role and their task (chef/recipe,
teacher/lesson plan, student/essay, researcher/scientific article, engineer/technical
report), and the number of constraints in each group — positive, negative, positional,
sequencing, conditional, iterative (0–2 each). `checks` (not drawn) says whether judge-only
constraints may be drawn ("mixed", the paper's setting) or only programmatic ones.

Sampling draws a topic, a plan of sections (in their natural order) and, group by group,
constraints that agree with that plan: required sections are in it, banned ones outside it,
first/last/order follow it, conditionals and labelled lists name sections of it. The answer
is a reference response built from the plan that satisfies every programmatic constraint;
`verify`'s feasibility check runs every check on it, so the constraints are jointly
satisfiable. Complexity is the paper's constrainedness: constraints applied / constraints
that could be (6 groups x 2).

`score` checks every programmatic constraint on the response (pass all, fraction passed, a
verdict and reason per constraint); constraints only a judge can check are listed in
`detail["judge_needed"]` and not counted — the quality-loop issue adds judge-based metrics.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec

from tools.generators.ba_text_constraints import (
    KINDS_BY_GROUP,
    Constraint,
    check,
    constraint_text,
    parse_response,
    words,
)
from tools.generators.ba_text_settings import (
    FILLER,
    FORBIDDEN_WORDS,
    GROUPS,
    ROLES,
    SETTINGS,
    TASKS,
    USERS,
    Setting,
)
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
from tools.generators.param_sampling import instance_rng, params_rng, refit, resolve_params
from tools.generators.rendering import check_mode, instance_metadata

GROUP_MAX = 2
MAX_CONSTRAINTS = GROUP_MAX * len(GROUPS)
_MODES = ("default", "text")  # both text only
_PLAN_SECTIONS = (3, 5)  # sections in a plan, before an iterative constraint adds its own
_MARGIN = 5  # words a reference response keeps above a minimum

PARAMS: list[ParamSpec] = [
    ParamSpec(name="user", kind="choice", choices=USERS, description="Who writes the text"),
    ParamSpec(name="role", kind="choice", choices=ROLES,
              description="The user's role (must be one of that user's roles)"),
    ParamSpec(name="task", kind="choice", choices=TASKS,
              description="What is written (must be the user's task)"),
    *[ParamSpec(name=group, kind="int", low=0, high=GROUP_MAX,
                description=f"Number of {group} constraints") for group in GROUPS],
    ParamSpec(name="checks", kind="choice", choices=["mixed", "programmatic"], default="mixed",
              description="Whether judge-only constraints may be drawn (not drawn)"),
]


class TextTask(msgspec.Struct, frozen=True, kw_only=True):
    """An instance's content."""

    user: str
    role: str
    task: str
    topic: str
    plan: list[str]  # the sections of the reference response, in order
    constraints: list[Constraint]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def prompt_text(t: TextTask) -> str:
    who = f"{t.role} {t.user}"
    lines = [f"You are {_article(who)} {who}. Write {_article(t.task)} {t.task} on {t.topic}.",
             "", "Follow these constraints:"]
    lines += [f"{n}. {c.text}" for n, c in enumerate(t.constraints, 1)]
    lines += ["", 'Format: start each section with a Markdown heading line ("## Section '
              'title") and write list items as lines starting with "- ".']
    return "\n".join(lines)


class BaTextGenerator:
    name = "ba_text"
    version = "1"
    params = PARAMS

    def card(self) -> dict[str, Any]:
        return generator_card(
            self, title="BA-Text: constrained long-form text generation",
            modalities=["text"], inputs=["text"],
            description="Write a long text (recipe, lesson plan, essay, scientific article, "
                        "technical report) that follows positive, negative, positional, "
                        "sequencing, conditional and iterative constraints.",
            card_text="Procedural BA-Text (BenchAgents): a user, role, task and topic with up "
                      "to two constraints per group. Programmatic constraints (sections, "
                      "order, word counts, banned words, labelled list items) are checked in "
                      "code; content constraints are listed for a judge.",
            tasks=["constrained text generation", "instruction following", "long-form writing"],
            domain="writing",
            fields={"question": field("input", "text", "the writing task and its constraints",
                                      extent="medium"),
                    "answer": field("target", "text", "a reference response that satisfies "
                                    "every programmatic constraint", extent="long")},
            structure="input: the task with numbered constraints; target: a reference "
                      "response; metadata: the instance (seed, params) and its constraints")

    # -- sampling -----------------------------------------------------------------------------

    def _resolve(self, seed: int, params: dict[str, Any] | None) -> dict[str, Any]:
        rng = params_rng(self.name, seed)
        values, drawn = resolve_params(PARAMS, params, rng)
        setting = SETTINGS[values["user"]]
        refit(values, drawn, "role", setting.roles, rng, f"user={values['user']!r} excludes")
        refit(values, drawn, "task", [setting.task], rng, f"user={values['user']!r} excludes")
        if sum(values[g] for g in GROUPS) == 0:
            free = [g for g in GROUPS if g in drawn]
            if not free:
                raise ParamError("at least one constraint is needed: every group is 0")
            values[rng.choice(free)] = 1
        return values

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        values = self._resolve(seed, params)
        rng = instance_rng(self.name, seed, values)
        task = _draw(SETTINGS[values["user"]], values, rng)
        return Instance(generator=self.name, seed=seed, params=values,
                        content=msgspec.to_builtins(task), answer=reference_response(task),
                        complexity=len(task.constraints) / MAX_CONSTRAINTS)

    # -- verification -------------------------------------------------------------------------

    def verify(self, instance: Instance) -> list[CheckResult]:
        try:
            task = msgspec.convert(instance.content, TextTask)
        except msgspec.ValidationError as exc:
            return all_failed(f"content is not a BA-Text task: {exc}")
        return [
            self._check_consistency(instance.params, task),
            self._check_feasibility(task, str(instance.answer)),
            complexity_check(instance.complexity, len(task.constraints) / MAX_CONSTRAINTS,
                             "constraints applied / constraints that could be"),
        ]

    def _check_consistency(self, p: dict[str, Any], t: TextTask) -> CheckResult:
        """The task and its constraints are what the parameters and the setting say."""
        fail = failing("consistency")
        setting = SETTINGS.get(t.user)
        if setting is None or (t.user, t.role, t.task) != (p.get("user"), p.get("role"),
                                                            p.get("task")):
            return fail(f"user/role/task {t.user}/{t.role}/{t.task} differ from the parameters")
        if t.role not in setting.roles or t.task != setting.task or t.topic not in (
                setting.topics[t.role]):
            return fail(f"{t.role}/{t.task}/{t.topic!r} is not a {t.user}'s setting")
        for group in GROUPS:
            n = sum(c.group == group for c in t.constraints)
            if n != p.get(group):
                return fail(f"{n} {group} constraints, parameter says {p.get(group)}")
        for n, c in enumerate(t.constraints, 1):
            if c.id != f"c{n}":
                return fail(f"constraint {n} has id {c.id!r}")
            if c.programmatic and c.kind not in KINDS_BY_GROUP[c.group]:
                return fail(f"{c.id}: kind {c.kind} is not a {c.group} constraint")
            if not c.programmatic and (p.get("checks") == "programmatic"
                                       or c.text not in setting.judge[c.group]):
                return fail(f"{c.id}: judge constraint {c.text!r} not allowed here")
            if c.text != constraint_text(c.kind, c.args):
                return fail(f"{c.id}: text does not match its kind and arguments")
        if any(s not in setting.sections for s in t.plan):
            return fail(f"plan {t.plan} names sections a {t.user} does not use")
        return CheckResult(check="consistency", passed=True,
                           reason=f"{len(t.constraints)} constraints match the parameters")

    def _check_feasibility(self, t: TextTask, reference: str) -> CheckResult:
        """The reference response satisfies every programmatic constraint at once."""
        response = parse_response(reference)
        programmatic = [c for c in t.constraints if c.programmatic]
        for c in programmatic:
            ok, why = check(c, response)
            if not ok:
                return CheckResult(check="feasibility", passed=False,
                                   reason=f"the reference response breaks {c.id} ({c.text}): "
                                          f"{why}")
        return CheckResult(check="feasibility", passed=True,
                           reason=f"a reference response satisfies all {len(programmatic)} "
                                  "programmatic constraints")

    # -- scoring ------------------------------------------------------------------------------

    def score(self, instance: Instance, answer: str) -> Score:
        task = msgspec.convert(instance.content, TextTask)
        response = parse_response(answer)
        verdicts: dict[str, dict[str, Any]] = {}
        judge_needed = []
        by_group: dict[str, list[int]] = {}
        for c in task.constraints:
            if not c.programmatic:
                judge_needed.append({"id": c.id, "group": c.group, "text": c.text})
                verdicts[c.id] = {"group": c.group, "check": "judge", "passed": None,
                                  "text": c.text}
                continue
            ok, why = check(c, response)
            verdicts[c.id] = {"group": c.group, "check": "programmatic", "passed": ok,
                              "reason": why, "text": c.text}
            tally = by_group.setdefault(c.group, [0, 0])
            tally[0] += ok
            tally[1] += 1
        checked = [v for v in verdicts.values() if v["check"] == "programmatic"]
        passed = sum(bool(v["passed"]) for v in checked)
        fraction = passed / len(checked) if checked else 0.0
        pass_all = bool(checked) and passed == len(checked)
        return Score(correct=pass_all, score=fraction, detail={
            "pass_all": pass_all, "fraction_passed": fraction, "words": len(words(answer)),
            "constraints": verdicts, "by_group": by_group, "judge_needed": judge_needed,
        })

    # -- rendering ----------------------------------------------------------------------------

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, _MODES)
        task = msgspec.convert(instance.content, TextTask)
        judge = sum(not c.programmatic for c in task.constraints)
        return RenderedItem(
            input=prompt_text(task), target=str(instance.answer),
            metadata={**instance_metadata(self, instance),
                      "programmatic_constraints": len(task.constraints) - judge,
                      "judge_constraints": judge})


# -- drawing constraints that agree with a plan -----------------------------------------------


def _draw(setting: Setting, p: dict[str, Any], rng: random.Random) -> TextTask:
    topic = rng.choice(setting.topics[p["role"]])
    mixed = p["checks"] == "mixed"
    picks: dict[str, list[str]] = {}
    for group in GROUPS:
        pool = list(KINDS_BY_GROUP[group])
        if mixed:
            pool += [f"judge:{i}" for i in range(len(setting.judge[group]))]
        picks[group] = rng.sample(pool, p[group])
    if mixed and all(k.startswith("judge") for ks in picks.values() for k in ks):
        group = next(g for g in GROUPS if picks[g])  # at least one constraint is code-checked
        picks[group][0] = rng.choice([k for k in KINDS_BY_GROUP[group] if k not in picks[group]])

    vocab = setting.sections
    plan = set(rng.sample(vocab, rng.randint(*_PLAN_SECTIONS)))
    if "each_item" in picks["iterative"]:
        plan.add(setting.list_section)
    order = [s for s in vocab if s in plan]
    terms = rng.sample(setting.terms, len(setting.terms))  # drawn in turn, never twice
    banned = rng.sample(FORBIDDEN_WORDS, len(FORBIDDEN_WORDS))
    outside = [s for s in vocab if s not in plan]
    required = rng.sample(order, len(order))

    def args_of(kind: str) -> dict[str, Any]:
        if kind == "has_section":
            return {"title": required.pop()}
        if kind in ("mentions", "first_paragraph_mentions"):
            term = terms.pop()
            return {"term": term, "times": rng.choice([2, 3])} if kind == "mentions" else {
                "term": term}
        if kind == "min_words":
            return {"words": rng.choice([150, 200, 250, 300])}
        if kind == "max_words":
            return {"words": rng.choice([700, 800, 900, 1000])}
        if kind == "no_section":
            return {"title": rng.choice(outside)}
        if kind == "forbidden_word":
            return {"word": banned.pop()}
        if kind == "no_first_person":
            return {}
        if kind == "first_section":
            return {"title": order[0]}
        if kind == "last_section":
            return {"title": order[-1]}
        if kind == "order":
            k = rng.choice([2, 3])
            return {"titles": [s for s in order if s in set(rng.sample(order, k))]}
        if kind == "adjacent":
            i = rng.randrange(len(order) - 1)
            return {"before": order[i], "after": order[i + 1]}
        if kind == "conditional_term":
            section, term, alternative = rng.choice(setting.conditionals)
            return {"section": section, "term": term, "alternative": alternative}
        if kind == "conditional_exclusive":
            section = rng.choice(vocab)
            return {"section": section,
                    "excluded": rng.choice([s for s in outside if s != section])}
        if kind == "each_item":
            return {"section": setting.list_section, "label": setting.item_label,
                    "items": rng.choice([3, 4])}
        if kind == "each_section_min_words":
            return {"words": rng.choice([25, 30, 40])}
        raise AssertionError(kind)

    constraints: list[Constraint] = []
    for group in GROUPS:
        for kind in picks[group]:
            if kind.startswith("judge:"):
                kind, args = "judge", {"text": setting.judge[group][int(kind.split(":")[1])]}
            else:
                args = args_of(kind)
            constraints.append(msgspec.convert(
                {"id": f"c{len(constraints) + 1}", "group": group, "kind": kind,
                 "text": constraint_text(kind, args), "args": args}, Constraint))
    return TextTask(user=setting.user, role=p["role"], task=setting.task, topic=topic,
                    plan=order, constraints=constraints)


def reference_response(t: TextTask) -> str:
    """A response built from the plan that satisfies every programmatic constraint."""
    sentences: dict[str, list[str]] = {s: [] for s in t.plan}
    items: dict[str, list[str]] = {s: [] for s in t.plan}
    section_min = total_min = 0
    filler = iter(range(10 ** 6))

    def pad(section: str) -> None:
        template = FILLER[next(filler) % len(FILLER)]
        sentences[section].append(template.format(task=t.task, topic=t.topic,
                                                  section=section.lower()))

    for section in t.plan:
        pad(section)
    for c in t.constraints:
        a = c.args
        if c.kind == "mentions":
            for n in range(a["times"]):
                target = t.plan[n % len(t.plan)]
                sentences[target].append(f"The {t.task} returns to {a['term']} at this point.")
        elif c.kind == "first_paragraph_mentions":
            sentences[t.plan[0]].insert(0, f"This {t.task} starts from {a['term']}.")
        elif c.kind == "conditional_term":
            where, term = (a["section"], a["term"]) if a["section"] in sentences else (
                t.plan[-1], a["alternative"])
            sentences[where].append(f"Here the notion of {term} matters.")
        elif c.kind == "each_item":
            items[a["section"]] = [f"{a['label']} point {n} on {t.topic}."
                                   for n in range(1, a["items"] + 1)]
        elif c.kind == "each_section_min_words":
            section_min = a["words"]
        elif c.kind == "min_words":
            total_min = a["words"]

    def body(section: str) -> str:
        text = " ".join(sentences[section])
        if items[section]:
            text += "\n\n" + "\n".join(f"- {item}" for item in items[section])
        return text

    for section in t.plan:
        while len(words(body(section))) < section_min + _MARGIN:
            pad(section)

    def full() -> str:
        return "\n\n".join(f"## {s}\n\n{body(s)}" for s in t.plan) + "\n"

    n = 0
    while len(words(full())) < total_min + _MARGIN:
        pad(t.plan[n % len(t.plan)])
        n += 1
    return full()
