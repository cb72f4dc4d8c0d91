"""Does Score-and-Filter tell good transformation plans from bad ones? Plans known to be good
and bad for one causal subtask, scored by the current grounding.score prompt and by other
methods, on a real local model.

    .venv/bin/python perf/plan_scores.py [--model qwen2.5-coder-1.5b]

The plans (subtask: everyday cause and effect, multiple choice):
  good  copa           Causal-Reasoning (COPA-style) question + options, label as target
  good  copa-template  the same with an explicit instruction
  bad   passage        Document-Level-Causal-Reasoning: a reading passage and a reading question
  bad   ethics         Ethical-Reasoning: a scenario and trait adjectives (not cause and effect)
  bad   target-input   COPA with the question (an input) as the target
  bad   placeholder    COPA whose instruction is "What is the cause of {event}?"

Methods:
  current   agents/prompts/grounding.py's score prompt (card summary + plan; 1..5 on alignment,
            robustness, signal preservation), accepted when each is >= 3 (0.6 x 5);
  defects   the plan shown with two items it produces (as the evaluated model sees them, with
            the answer); the model lists concrete defects first, then says whether the items
            test the capability, then scores;
  signals   programmatic: the target is the dataset's label and not an input, the instruction
            has no placeholder the card cannot fill, the produced items pass agents/item_checks,
            and the items' questions use the subtask's capability words;
  combined  defects-first score, zero when a programmatic signal fails;
  pairwise  every candidate at once (one item each), ranked best to worst by the model;
  grounding what Score-and-Filter now decides (agents/plan_signals.py): the current prompt's
            scores combined with the signals measured on the dataset's own items, zero when
            a measured signal rejects the plan (then the agent does not ask the model).

`--only-grounding` asks the model only the current prompt (for `current` and `grounding`).
Prints the table and, per method, how many (good, bad) pairs it orders correctly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pipeline_requests as pr  # noqa: E402
from autogen_core.models import SystemMessage, UserMessage  # noqa: E402

from agents.item_checks import content_stems, failed_checks, unfillable_placeholders  # noqa: E402
from agents.plan_signals import combined_scores, measure, sampled_items  # noqa: E402
from agents.plans import card_summary, is_label  # noqa: E402
from agents.prompts import grounding  # noqa: E402
from agents.prompts.common import clip, messages, obj, text  # noqa: E402
from agents.realize import Draft  # noqa: E402
from agents.relevance import relevance  # noqa: E402
from store.events import BenchmarkItem, TransformationPlan  # noqa: E402
from tools.cards import DatasetCard  # noqa: E402
from tools.llm.local import make_local_client  # noqa: E402
from tools.pool import Pool  # noqa: E402

ETHICS = "0d20e992"


@dataclass
class Candidate:
    name: str
    good: bool
    card: DatasetCard
    plan: TransformationPlan
    items: list[BenchmarkItem]


def plan(card: DatasetCard, name: str, inputs: list[str], target: str, fmt: str,
         template: str, instructions: str) -> TransformationPlan:
    return TransformationPlan(plan_id=f"p-{name}", subtask=pr.SUBTASK.name,
                              dataset_id=card.dataset_id, instructions=instructions,
                              question_template=template, input_fields=inputs,
                              target_field=target, answer_format=fmt)


def candidates(pool: Pool) -> list[Candidate]:
    copa, passage, ethics = pool.card(pr.COPA), pool.card(pr.PASSAGES), pool.card(ETHICS)
    keep = "Use each item as it is; the answer is the dataset's label."
    specs = [
        ("copa", True, copa, plan(copa, "copa", ["question", "options"], "answer",
                                  "multiple_choice", "", keep)),
        ("copa-template", True, copa, plan(copa, "copa-template", ["question", "options"],
                                           "answer", "multiple_choice",
                                           "Choose the more plausible cause or effect.", keep)),
        ("passage", False, passage, plan(passage, "passage", ["context", "question"], "answer",
                                         "short_answer", "Answer the question from the passage.",
                                         keep)),
        ("ethics", False, ethics, plan(ethics, "ethics", ["context", "options"], "answer",
                                       "multiple_choice", "Which trait does the person show?",
                                       keep)),
        ("target-input", False, copa, plan(copa, "target-input", ["options"], "question",
                                           "short_answer", "Write the question these options "
                                           "answer.", "The target is the item's question.")),
        ("placeholder", False, copa, plan(copa, "placeholder", ["question", "options"], "answer",
                                          "multiple_choice", "What is the cause of {event}?",
                                          keep)),
    ]
    out = []
    for name, good, card, p in specs:
        items = []
        for i, source in enumerate(pool.items(card.dataset_id)[3:5]):
            items.append(Draft(p, card, source).build(
                f"{name}-{i}", pr.SUBTASK.name, question=None, distractors=[], media=[],
                run_seed=1, extra_metadata={}, planned=False))
        out.append(Candidate(name, good, card, p, items))
    return out


def plan_doc(p: TransformationPlan) -> dict[str, Any]:
    return {"instructions": p.instructions, "question_template": p.question_template,
            "input_fields": p.input_fields, "target_field": p.target_field,
            "answer_format": p.answer_format, "tools": p.tools, "target_source": p.target_source}


def item_view(item: BenchmarkItem, chars: int = 700) -> dict[str, Any]:
    doc: dict[str, Any] = {"input": clip(item.input, chars)}
    if item.choices:
        doc["options"] = [f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(item.choices)]
    doc["answer"] = item.target
    return doc


DEFECTS_SCHEMA = obj({
    "defects": {"type": "array", "items": text(160), "maxItems": 5},
    "items_test_the_capability": {"enum": ["yes", "partly", "no"]},
    "alignment": {"type": "integer", "minimum": 1, "maximum": 5},
    "robustness": {"type": "integer", "minimum": 1, "maximum": 5},
    "signal_preservation": {"type": "integer", "minimum": 1, "maximum": 5},
})
_SYSTEM = ("You are the Grounding agent of a benchmark-building system. You check that a subtask "
           "can be realized from real datasets through executable transformations. Answer with "
           "JSON only.")


def defects_messages(c: Candidate) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Below are a subtask, a dataset, a transformation plan and two benchmark items the plan "
        "produced, as the evaluated model sees them (with their answers). First list the "
        "concrete defects you find, if any: items that do not test the subtask's capability "
        "(e.g. reading comprehension or trait labelling where cause and effect is asked), a "
        "target that is not the dataset's label, an instruction with an unfilled placeholder, "
        "an item that cannot be answered from its input. Then say whether the items test the "
        "capability, and score the plan from 1 (poor) to 5 (excellent) on alignment, "
        "robustness and signal preservation.",
        {"subtask": pr.subtask_doc(), "dataset": {"name": c.card.name,
                                                  "description": clip(c.card.description, 300)},
         "plan": plan_doc(c.plan), "items": [item_view(i) for i in c.items]},
    )


def pairwise_messages(cands: list[Candidate]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    letters = [chr(ord("A") + i) for i in range(len(cands))]
    schema = obj({"ranking": {"type": "array", "items": {"enum": letters},
                              "minItems": len(cands), "maxItems": len(cands)},
                  "reason": text(300)})
    facts = {"subtask": pr.subtask_doc(), "candidates": {
        letter: {"dataset": c.card.name, "plan": {k: v for k, v in plan_doc(c.plan).items()
                                                  if k in ("question_template", "input_fields",
                                                           "target_field", "answer_format")},
                 "example_item": item_view(c.items[0], 400)}
        for letter, c in zip(letters, cands, strict=True)}}
    return messages(
        _SYSTEM,
        "These candidate plans compete to ground the subtask. Rank all of them from best to "
        "worst: the best produces items that test exactly the subtask's capability, with the "
        "dataset's own label as the answer and a complete instruction. Give each letter once.",
        facts), schema


def word_roots(text: str) -> set[str]:
    """Four-letter roots of a text's content words ("causal", "cause" -> "caus")."""
    return {w[:4] for w in content_stems(text.replace("cause", "causal")
                                         .replace("effect", "effects"))}


def signals(c: Candidate) -> dict[str, Any]:
    roles = list(c.card.meta.fields)
    capability = word_roots(f"{pr.SUBTASK.capability} {pr.SUBTASK.name}")
    questions = [f"{i.metadata.get('question', '')} {i.input[-300:]}" for i in c.items]
    on_topic = sum(bool(word_roots(q) & capability) for q in questions) / max(len(questions), 1)
    failed = sorted({f.check for i in c.items for f in failed_checks(i, c.plan)})
    problems = []
    if not is_label(c.card, c.plan.target_field):
        problems.append(f"target {c.plan.target_field!r} is not the label")
    if c.plan.target_field in c.plan.input_fields:
        problems.append("target is an input")
    missing = unfillable_placeholders(c.plan.question_template, roles)
    if missing:
        problems.append(f"unfillable {', '.join(missing)}")
    problems += [f"item check {f}" for f in failed]
    if on_topic < 0.5:
        problems.append(f"questions off the capability ({on_topic:.0%} on it)")
    return {"problems": problems, "on_topic": on_topic}


async def ask(client: Any, msgs: list[dict[str, Any]], schema: dict[str, Any]) -> tuple[Any, float]:
    llm_messages = [SystemMessage(content=m["content"]) if m["role"] == "system"
                    else UserMessage(content=m["content"], source="user") for m in msgs]
    started = time.perf_counter()
    result = await client.create(llm_messages, extra_create_args={
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
        "max_tokens": 400})
    return json.loads(result.content), time.perf_counter() - started


def mean_score(answer: dict[str, Any]) -> float:
    return (answer["alignment"] + answer["robustness"] + answer["signal_preservation"]) / 15


def ordered_pairs(scores: dict[str, float], cands: list[Candidate]) -> str:
    good = [c.name for c in cands if c.good]
    bad = [c.name for c in cands if not c.good]
    right = sum(scores[g] > scores[b] for g in good for b in bad)
    ties = sum(scores[g] == scores[b] for g in good for b in bad)
    return f"{right}/{len(good) * len(bad)} pairs ordered ({ties} ties)"


def grounding_score(pool: Pool, c: Candidate, answer: dict[str, Any]) -> tuple[float, str]:
    """Score-and-Filter's mean of its three dimensions now (0 when a measured signal rejects
    the plan), and the problems it names."""
    measured = measure(c.plan, c.card, sampled_items(pool, c.card.dataset_id),
                       relevance(pr.SUBTASK, c.card, pool))
    if measured.problems:
        return 0.0, "; ".join(measured.problems)
    dims = combined_scores(measured, (answer["alignment"] / 5, answer["robustness"] / 5,
                                      answer["signal_preservation"] / 5))
    return sum(dims) / 3, "none"


NO_ANSWER: dict[str, Any] = {"alignment": 0, "robustness": 0, "signal_preservation": 0, "defects": [],
             "items_test_the_capability": "-"}


async def main_async(model: str, only_grounding: bool) -> None:
    pool = pr.load_pool()
    cands = candidates(pool)
    client = make_local_client(model)
    print(f"model local:{model}; subtask {pr.SUBTASK.name!r}")
    current, defects, combined, sigs, now = {}, {}, {}, {}, {}
    rows = []
    seconds = {"current": 0.0, "defects": 0.0}
    for c in cands:
        answer, s1 = await ask(client, grounding.score_messages(
            pr.subtask_doc(), card_summary(c.card), plan_doc(c.plan)), grounding.SCORE_SCHEMA)
        now[c.name], why = grounding_score(pool, c, answer)
        print(f"  {c.name}: grounding now {now[c.name]:.3f} (model "
              f"{answer['alignment']}/{answer['robustness']}/{answer['signal_preservation']}; "
              f"rejected by: {why})", flush=True)
        if only_grounding:
            d_answer, s2 = dict(NO_ANSWER), 0.0
        else:
            d_answer, s2 = await ask(client, defects_messages(c), DEFECTS_SCHEMA)
        seconds["current"] += s1
        seconds["defects"] += s2
        sig = signals(c)
        current[c.name] = mean_score(answer)
        defects[c.name] = mean_score(d_answer)
        sigs[c.name] = 0.0 if sig["problems"] else 1.0
        combined[c.name] = 0.0 if sig["problems"] else defects[c.name]
        accepted = min(answer["alignment"], answer["robustness"],
                       answer["signal_preservation"]) >= 3
        rows.append((c, answer, accepted, d_answer, sig))
    msgs, schema = pairwise_messages(cands)
    if only_grounding:
        ranking, s3 = {"ranking": [], "reason": "not asked"}, 0.0
    else:
        ranking, s3 = await ask(client, msgs, schema)
    order = list(dict.fromkeys(ranking["ranking"]))
    pairwise = {c.name: (len(cands) - order.index(chr(ord("A") + i))) / len(cands)
                if chr(ord("A") + i) in order else 0.0 for i, c in enumerate(cands)}

    print(f"\n{'plan':<14}{'truth':<6}{'current a/r/s':<15}{'kept':<6}{'defects a/r/s':<15}"
          f"{'tests cap.':<11}{'#def':<5}{'pairwise':<9}{'combined':<9}signals")
    for c, answer, accepted, d_answer, sig in rows:
        cur = f"{answer['alignment']}/{answer['robustness']}/{answer['signal_preservation']}"
        dft = f"{d_answer['alignment']}/{d_answer['robustness']}/{d_answer['signal_preservation']}"
        print(f"{c.name:<14}{'good' if c.good else 'bad':<6}{cur:<15}{str(accepted):<6}"
              f"{dft:<15}{d_answer['items_test_the_capability']:<11}"
              f"{len(d_answer['defects']):<5}{pairwise[c.name]:<9.2f}{combined[c.name]:<9.2f}"
              f"{'; '.join(sig['problems']) or 'none'}")
    for c, answer, _, d_answer, _ in rows:
        print(f"  {c.name}: current says {answer['reason'][:110]!r}")
        print(f"  {c.name}: defects {[d[:70] for d in d_answer['defects']]}")
    print(f"  pairwise ranking {order}: {ranking['reason'][:160]!r}")
    print("\nseparation (every good plan above every bad one is 8/8):")
    for name, scores in (("current", current), ("defects", defects), ("signals", sigs),
                         ("combined", combined), ("pairwise", pairwise), ("grounding", now)):
        print(f"  {name:<9} {ordered_pairs(scores, cands)}  "
              f"{', '.join(f'{k} {v:.2f}' for k, v in scores.items())}")
    print(f"\nmodel seconds: current {seconds['current']:.0f}, defects-first "
          f"{seconds['defects']:.0f}, pairwise {s3:.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--only-grounding", action="store_true",
                        help="ask only the current score prompt (skip defects and pairwise)")
    args = parser.parse_args()
    asyncio.run(main_async(args.model, args.only_grounding))
    return 0


if __name__ == "__main__":
    sys.exit(main())
