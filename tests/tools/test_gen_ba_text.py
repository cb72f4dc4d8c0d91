"""BA-Text generator: parameters, constraints that agree with each other, checks that catch a
response breaking each programmatic constraint, judge-only constraints listed for a judge."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators.ba_text import MAX_CONSTRAINTS, BaTextGenerator, TextTask, prompt_text
from tools.generators.ba_text_constraints import (
    KINDS_BY_GROUP,
    Constraint,
    check,
    count_term,
    parse_response,
    title_key,
    words,
)
from tools.generators.ba_text_settings import (
    FILLER,
    FORBIDDEN_WORDS,
    GROUPS,
    SETTINGS,
)
from tools.generators.base import Instance, ParamError

GEN = BaTextGenerator()
SEEDS = range(300)


def task_of(inst: Instance) -> TextTask:
    return msgspec.convert(inst.content, TextTask)


def test_same_seed_same_instance_and_metadata_recreates_it(tmp_path: Path) -> None:
    for seed in (0, 1, 99):
        inst = GEN.sample(seed)
        assert msgspec.json.encode(GEN.sample(seed)) == msgspec.json.encode(inst)
        assert GEN.sample(seed, inst.params) == inst
        meta = GEN.render(inst, tmp_path).metadata
        assert GEN.sample(meta["seed"], meta["params"]) == inst
    assert GEN.sample(0) != GEN.sample(1)


def test_parameters_stay_in_their_ranges_and_fit_the_user() -> None:
    users, complexities = set(), set()
    for seed in SEEDS:
        inst = GEN.sample(seed)
        p, t = inst.params, task_of(inst)
        setting = SETTINGS[p["user"]]
        assert p["role"] in setting.roles and p["task"] == setting.task
        assert t.topic in setting.topics[p["role"]]
        counts = [p[g] for g in GROUPS]
        assert all(0 <= n <= 2 for n in counts) and sum(counts) >= 1
        assert [c.group for c in t.constraints] == [g for g in GROUPS for _ in range(p[g])]
        assert inst.complexity == len(t.constraints) / MAX_CONSTRAINTS
        assert any(c.programmatic for c in t.constraints)  # mixed still checks something
        users.add(p["user"])
        complexities.add(inst.complexity)
    assert users == set(SETTINGS)
    assert min(complexities) <= 2 / MAX_CONSTRAINTS and max(complexities) >= 10 / MAX_CONSTRAINTS


def test_bad_parameters_are_refused_with_their_range() -> None:
    with pytest.raises(ParamError, match=r"user='chef' excludes role='biology'; it fits: "
                                         r"amateur, professional"):
        GEN.sample(0, {"user": "chef", "role": "biology"})
    with pytest.raises(ParamError, match="excludes task='essay'"):
        GEN.sample(0, {"user": "chef", "task": "essay"})
    with pytest.raises(ParamError, match=r"positive=3 is out of range: \[0, 2\]"):
        GEN.sample(0, {"positive": 3})
    with pytest.raises(ParamError, match="at least one constraint"):
        GEN.sample(0, {g: 0 for g in GROUPS})
    with pytest.raises(ParamError, match="unknown parameter 'tone'"):
        GEN.sample(0, {"tone": "formal"})


def test_programmatic_only_draws_no_judge_constraints() -> None:
    for seed in range(40):
        inst = GEN.sample(seed, {"checks": "programmatic"})
        assert all(c.programmatic for c in task_of(inst).constraints)


def test_every_instance_verifies_and_its_reference_passes_every_check() -> None:
    kinds: set[str] = set()
    for seed in SEEDS:
        inst = GEN.sample(seed)
        results = GEN.verify(inst)
        assert [r.check for r in results] == ["consistency", "feasibility", "complexity"]
        assert all(r.passed for r in results), (seed, results)
        score = GEN.score(inst, inst.answer)
        assert score.correct and score.score == 1.0
        kinds |= {c.kind for c in task_of(inst).constraints}
    assert kinds == {k for ks in KINDS_BY_GROUP.values() for k in ks} | {"judge"}


def test_verify_catches_tampered_instances() -> None:
    inst = GEN.sample(5, {"checks": "programmatic", "positive": 2, "negative": 2})
    content = msgspec.to_builtins(inst.content)
    content["constraints"][0]["text"] = "Write whatever you like."
    changed = msgspec.structs.replace(inst, content=content)
    assert "text does not match" in GEN.verify(changed)[0].reason
    fewer = msgspec.structs.replace(inst, params={**inst.params, "positive": 1})
    assert "2 positive constraints, parameter says 1" in GEN.verify(fewer)[0].reason
    broken = msgspec.structs.replace(inst, answer="no sections at all")
    feasibility = GEN.verify(broken)[1]
    assert not feasibility.passed and "breaks c1" in feasibility.reason
    wrong = msgspec.structs.replace(inst, complexity=0.99)
    assert not GEN.verify(wrong)[2].passed


# -- each programmatic constraint: a response that breaks it is caught -------------------------


def _sections(text: str) -> list[tuple[str, str]]:
    parts = re.split(r"^## (.*)$", text, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def _join(sections: list[tuple[str, str]]) -> str:
    return "".join(f"## {title}{body}" for title, body in sections)


def _drop_term(term: str, text: str) -> str:
    pattern = r"\s+".join(re.escape(w) for w in term.split())
    return re.sub(pattern, "something", text, flags=re.I)


def _break_order(a: dict, text: str) -> str:
    sections = _sections(text)
    first, second = a["titles"][0], a["titles"][1]
    i = next(n for n, (t, _) in enumerate(sections) if t == first)
    j = next(n for n, (t, _) in enumerate(sections) if t == second)
    sections[i], sections[j] = sections[j], sections[i]
    return _join(sections)


def _break_adjacent(a: dict, text: str) -> str:
    sections = _sections(text)
    i = next(n for n, (t, _) in enumerate(sections) if t == a["after"])
    moved = sections.pop(i)
    return _join(sections + [moved]) if i < len(sections) else _join([moved] + sections)


def _break_conditional(a: dict, text: str) -> str:
    sections = _sections(text)
    titles = [t for t, _ in sections]
    if a["section"] in titles:
        return _join([(t, _drop_term(a["term"], b) if t == a["section"] else b)
                      for t, b in sections])
    return _join(sections[:-1] + [(sections[-1][0], _drop_term(a["alternative"],
                                                                 sections[-1][1]))])


def _break_items(a: dict, text: str) -> str:
    return text.replace(f"- {a['label']} point 1", "- point 1", 1)


BREAKERS: dict[str, Callable[[dict, str], str]] = {
    "has_section": lambda a, t: t.replace(f"## {a['title']}\n", "", 1),
    "mentions": lambda a, t: _drop_term(a["term"], t),
    "min_words": lambda a, t: " ".join(words(t)[: a["words"] // 2]),
    "no_section": lambda a, t: t + f"\n## {a['title']}\n\nAdded anyway.\n",
    "forbidden_word": lambda a, t: t + f"\nIt is {a['word']} good.\n",
    "max_words": lambda a, t: t + "\n" + "more " * a["words"] + "\n",
    "no_first_person": lambda a, t: t + "\nWe think this works.\n",
    "first_section": lambda a, t: "## Preface\n\nOpening words.\n\n" + t,
    "last_section": lambda a, t: t + "\n## Appendix\n\nClosing words.\n",
    "first_paragraph_mentions": lambda a, t: "Plain opening words.\n\n" + t,
    "order": _break_order,
    "adjacent": _break_adjacent,
    "conditional_term": _break_conditional,
    "conditional_exclusive": lambda a, t: t + f"\n## {a['section']}\n\nOne.\n\n"
                                              f"## {a['excluded']}\n\nTwo.\n",
    "each_item": _break_items,
    "each_section_min_words": lambda a, t: t + "\n## Extra\n\nShort.\n",
}


def _instances_with(kind: str) -> list[tuple[Instance, Constraint]]:
    found = []
    for seed in range(400):
        inst = GEN.sample(seed, {"checks": "programmatic"})
        for c in task_of(inst).constraints:
            if c.kind == kind and (kind != "order" or len(c.args["titles"]) >= 2):
                found.append((inst, c))
        if len(found) >= 5:
            break
    return found


@pytest.mark.parametrize("kind", sorted(BREAKERS))
def test_a_response_breaking_one_constraint_is_caught(kind: str) -> None:
    cases = _instances_with(kind)
    assert len(cases) == 5
    for inst, constraint in cases:
        reference = str(inst.answer)
        assert GEN.score(inst, reference).detail["constraints"][constraint.id]["passed"]
        broken = BREAKERS[kind](constraint.args, reference)
        score = GEN.score(inst, broken)
        verdict = score.detail["constraints"][constraint.id]
        assert verdict["passed"] is False and verdict["reason"], (kind, verdict)
        assert not score.correct and score.score < 1.0


def test_every_programmatic_kind_has_a_breaker() -> None:
    assert set(BREAKERS) == {k for ks in KINDS_BY_GROUP.values() for k in ks}


def test_judge_only_constraints_are_listed_and_not_counted() -> None:
    inst = next(i for i in map(GEN.sample, SEEDS)
                if any(not c.programmatic for c in task_of(i).constraints))
    judge = [c for c in task_of(inst).constraints if not c.programmatic]
    score = GEN.score(inst, str(inst.answer))
    assert score.detail["judge_needed"] == [{"id": c.id, "group": c.group, "text": c.text}
                                            for c in judge]
    assert all(score.detail["constraints"][c.id]["passed"] is None for c in judge)
    checked = len(task_of(inst).constraints) - len(judge)
    assert sum(n for _, n in score.detail["by_group"].values()) == checked
    assert score.correct and score.detail["fraction_passed"] == 1.0


def test_a_hand_written_response_in_markdown_variants() -> None:
    task = TextTask(user="chef", role="amateur", task="recipe", topic="a lemon tart",
                    plan=["Ingredients", "Cooking Steps"], constraints=[
        Constraint(id="c1", group="positive", kind="has_section", text="",
                   args={"title": "Ingredients"}),
        Constraint(id="c2", group="sequencing", kind="order", text="",
                   args={"titles": ["Ingredients", "Cooking Steps"]}),
        Constraint(id="c3", group="iterative", kind="each_item", text="",
                   args={"section": "Cooking Steps", "label": "Time:", "items": 3}),
        Constraint(id="c4", group="negative", kind="no_first_person", text="", args={}),
        Constraint(id="c5", group="negative", kind="forbidden_word", text="",
                   args={"word": "very"}),
    ])
    response = (
        "# 1. Ingredients:\n\nFlour, butter, lemons; every lemon zested, i.e. finely.\n\n"
        "### **Cooking Steps**\n\n1. Time: 10 min — rub the butter in.\n"
        "* time: 30 min, blind-bake the case.\n- TIME: 25 min, bake the filling.\n")
    parsed = parse_response(response)
    assert [s.key for s in parsed.sections] == ["ingredients", "cooking steps"]
    for c in task.constraints:
        assert check(c, parsed)[0], (c.kind, check(c, parsed))
    assert check(task.constraints[3], parse_response(response + "\nI liked it."))[0] is False
    assert title_key("  **2) Main Activity:** ") == "main activity"
    assert count_term("fresh herbs", "Fresh\nherbs, fresh herbsy") == 1


def test_banned_words_never_appear_where_a_reference_response_needs_them() -> None:
    text = " ".join(
        [*FILLER, *(w for s in SETTINGS.values() for w in (
            s.user, s.task, s.list_section, s.item_label, *s.roles, *s.sections, *s.terms,
            *(t for ts in s.topics.values() for t in ts),
            *(x for triple in s.conditionals for x in triple)))])
    for word in FORBIDDEN_WORDS:
        assert count_term(word, text) == 0, word


def test_render_shows_every_constraint_and_the_card_is_a_pool_card(tmp_path: Path) -> None:
    inst = GEN.sample(11)
    item = GEN.render(inst, tmp_path)
    t = task_of(inst)
    assert item.input == prompt_text(t) and t.topic in item.input
    assert all(f"{n}. {c.text}" in item.input for n, c in enumerate(t.constraints, 1))
    assert item.target == inst.answer and item.choices is None and item.media == []
    assert item.metadata["generator"] == "ba_text" and item.metadata["seed"] == 11
    judge = sum(not c.programmatic for c in t.constraints)
    assert item.metadata["judge_constraints"] == judge
    assert list(tmp_path.iterdir()) == []
    card = parse_card("gen-ba_text", GEN.card())
    assert isinstance(card, DatasetCard) and card.generator == "ba_text"
    assert {p["name"] for p in card.raw_meta.parameters} >= {"user", "role", "task", *GROUPS}
