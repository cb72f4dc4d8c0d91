"""Programmatic signals of a transformation plan, measured on the dataset's own items (free).

`perf/plan_scores.py` found that on the 1.5B backbone the model's 1–5 scores put every plan,
good or bad, at 1.00 / 0.80, while programmatic signals told 8 of 8 (good, bad) pairs apart.
So Score-and-Filter measures, on a few items spread over the dataset, built by the plan as
the Orchestrator would build them (`agents.realize.Draft`, no sample-level rewrite):

- `template_fills`: the instruction's placeholders are filled from the item's own fields
  (a plan whose template cannot be filled is rejected here, never at verification);
- `target_is_label`: the target is the dataset's label, not one of the item's inputs;
- `fields_present`: the share of items that have what the plan's answer format and inputs
  need (options for multiple choice, a passage where the plan feeds one, a question);
- `items_pass`: the share of built items that pass `agents.item_checks` (no truncated or
  duplicated options, no answer inside the question, no boilerplate, no slur…);
- `on_target`: the share of the dataset's sampled questions that ask what the subtask tests
  (`agents.relevance`).

`combined_scores` folds them with the model's three scores into the three dimensions of
`PlanScored` (geometric means: either side low keeps a dimension low); a failed signal is a
problem that rejects the plan whatever the model said.
"""

from __future__ import annotations

import math
import re

from agents.cloze import mask_of
from agents.item_checks import failed_checks, truncation, unfillable_placeholders
from agents.plans import is_label
from agents.prompts.grounding import PLAN_ASK
from agents.realize import Draft, as_text, choice_list
from agents.relevance import ON_TARGET_SHARE, spread_items
from store.events import BenchmarkItem, DatasetRelevance, PlanSignals, TransformationPlan
from tools.cards import DatasetCard
from tools.pool import Pool, SourceItem

SAMPLED_ITEMS = 6
MIN_SHARE = 0.5  # fields_present / items_pass below this reject the plan
_QUESTION_ROLES = ("question", "options", "choices")
ECHO_WORDS = 5  # this many words in a row copied from the plan request make an echo


def sampled_items(pool: Pool, dataset_id: str, n: int = SAMPLED_ITEMS) -> list[SourceItem]:
    """`n` items spread evenly over the dataset (the same ones for every plan on it)."""
    return spread_items(pool, dataset_id, n)


def build_items(plan: TransformationPlan, card: DatasetCard,
                sources: list[SourceItem]) -> list[BenchmarkItem]:
    """The items the plan makes of `sources`, as the Orchestrator drafts them."""
    return [Draft(plan, card, source).build(
        f"signal-{i}", plan.subtask, question=None, distractors=[], media=[], run_seed=0,
        extra_metadata={}, planned=False) for i, source in enumerate(sources)]


def _has_text(value: object) -> bool:
    return bool(value is not None and as_text(value).strip())


def item_has_what_plan_needs(plan: TransformationPlan, source: SourceItem) -> float:
    """1 when the item has every field the plan needs; 0.5 when multiple choice has to rest on
    distractors a model writes (where the demo's items went wrong; a cloze item's come from
    the dataset); 0 when a needed field is empty."""
    fields = source.fields
    if not _has_text(fields.get(plan.target_field)):
        return 0.0
    contexts = [r for r in plan.input_fields if r not in _QUESTION_ROLES]
    if contexts and not any(_has_text(fields.get(r)) for r in contexts):
        return 0.0
    asks = ("question" in plan.input_fields and _has_text(fields.get("question"))) \
        or bool(plan.question_template.strip()) or bool(contexts)
    if not asks:
        return 0.0
    if plan.answer_format == "multiple_choice" and choice_list(fields.get("options")) is None \
            and not mask_of([as_text(fields[r]) for r in contexts if r in fields]):
        return 0.5  # a cloze item's options are the dataset's other answers (`agents.cloze`)
    return 1.0


def measure(plan: TransformationPlan, card: DatasetCard, sources: list[SourceItem],
            relevance: DatasetRelevance | None) -> PlanSignals:
    """The plan's programmatic signals and the problems that reject it."""
    problems: list[str] = []
    missing = unfillable_placeholders(plan.question_template, card.meta.fields)
    if missing:
        problems.append(f"the instruction's {', '.join(missing)} cannot be filled from the "
                        f"item's own fields ({', '.join(card.meta.fields)})")
    label = is_label(card, plan.target_field) and plan.target_field not in plan.input_fields
    has_label = any(is_label(card, r) for r in card.meta.fields)
    if not label and has_label:
        problems.append(f"the target {plan.target_field!r} is not the dataset's label")
    present = [item_has_what_plan_needs(plan, s) for s in sources]
    fields_present = sum(present) / len(present) if present else 0.0
    if fields_present < MIN_SHARE:
        problems.append(f"only {fields_present:.0%} of sampled items have the fields the plan "
                        "needs")
    failures: dict[str, int] = {}
    passing = 0
    for item in build_items(plan, card, sources):
        failed = failed_checks(item, plan)
        passing += not failed
        for f in failed:
            failures[f.check] = failures.get(f.check, 0) + 1
    items_pass = passing / len(sources) if sources else 0.0
    if items_pass < MIN_SHARE:
        problems.append(f"{len(sources) - passing} of {len(sources)} sampled items fail checks ("
                        + ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) + ")")
    on_target = relevance.on_target if relevance is not None else 1.0
    if on_target < ON_TARGET_SHARE:
        problems.append(f"{on_target:.0%} of sampled questions ask what the subtask tests")
    return PlanSignals(template_fills=not missing, target_is_label=label or not has_label,
                       fields_present=round(fields_present, 3), items_pass=round(items_pass, 3),
                       on_target=round(on_target, 3), sampled=len(sources), problems=problems)


def combined_scores(signals: PlanSignals, llm: tuple[float, float, float]) -> tuple[float, ...]:
    """(alignment, robustness, signal preservation) in 0..1: each the geometric mean of the
    model's score and what was measured of the same quality, so that either one low keeps the
    dimension low (a model that scores alignment 1 of 5 still vetoes a plan)."""
    alignment, robustness, preservation = llm
    measured_robustness = (signals.fields_present + signals.items_pass) / 2
    measured_signal = signals.items_pass if signals.target_is_label else 0.0
    return tuple(round(math.sqrt(model * measured), 3) for model, measured in (
        (alignment, signals.on_target), (robustness, measured_robustness),
        (preservation, measured_signal)))


# ----------------------------------------------------------------- the instruction's fit

_PASSAGE_WORDS = re.compile(r"\b(passage|text|article|story|document|context|dialog(?:ue)?|"
                            r"conversation|paragraph)\b", re.IGNORECASE)
_OPTION_WORDS = re.compile(r"\b(options?|choices?|choose|select|alternatives?|which of)\b",
                           re.IGNORECASE)
_JUDGEMENT_WORDS = re.compile(r"\b(valid|invalid|validity|true or false|yes or no|justify|"
                              r"explain)\b", re.IGNORECASE)


def instruction_misfit(plan: TransformationPlan, items: list[BenchmarkItem]) -> str | None:
    """Why the instruction shown above the items does not fit them (None if it does).

    It must not repeat the plan request's own words (the 1.5B answered "one plain sentence
    that fits the items as they are…", and every item of that plan failed the everyday
    register on the request's "placeholders"), point at a passage the items lack, offer a
    choice they do not have, or ask for a judgement ("evaluate whether the reasoning is
    valid") or an explanation where the item asks a question with a plain answer, or be cut
    off mid-sentence (the schema's 200 characters ended a 1.5B template at "…a temporal
    expression (e.g., a 30")."""
    template = plan.question_template.strip()
    if not template or not items:
        return None
    if cut := truncation(template.rstrip(":")):  # "Answer the following:" is whole
        return f"it is cut off mid-sentence ({cut})"
    echoed = copied_words(template, PLAN_ASK)
    if echoed:
        return f"it repeats the plan request's own words ({echoed!r})"
    has_context = any("\n\n" in i.input and ":\n" in i.input for i in items)
    has_choices = all(i.choices for i in items)
    passage = _PASSAGE_WORDS.search(template)
    if passage and not has_context:
        return f"it refers to a {passage.group(1).lower()} the items do not have"
    if _OPTION_WORDS.search(template) and not has_choices and \
            plan.answer_format != "multiple_choice":
        return "it offers a choice the items do not have"
    said = _JUDGEMENT_WORDS.search(template)
    if said and not any(_JUDGEMENT_WORDS.search(str(i.metadata.get("question", "")))
                        for i in items):
        return f"it asks to {said.group(1).lower()} where the items ask a question"
    return None


def copied_words(text: str, source: str, n: int = ECHO_WORDS) -> str:
    """The first run of `n` consecutive words of `text` that `source` also has ("": none)."""
    def words(s: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", s.lower())

    known = words(source)
    seen = {tuple(known[i:i + n]) for i in range(len(known) - n + 1)}
    said = words(text)
    for i in range(len(said) - n + 1):
        if tuple(said[i:i + n]) in seen:
            return " ".join(said[i:i + n])
    return ""


def form_instruction(plan: TransformationPlan, items: list[BenchmarkItem]) -> str:
    """An instruction that says what the items are: read what they give, answer as they ask."""
    has_choices = bool(items) and all(i.choices for i in items)
    sections = [r.replace("_", " ") for r in plan.input_fields if r not in _QUESTION_ROLES]
    read = f"Read the {sections[0]}, then answer" if sections else "Answer"
    if has_choices:
        return f"{read} the question by choosing the more plausible option." \
            if all(len(i.choices or []) == 2 for i in items) \
            else f"{read} the question by choosing the best option."
    return f"{read} the question."
