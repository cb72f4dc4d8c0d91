"""Turning a source item and its sample plan into a benchmark item (pure functions).

The target always comes from the source item's own label (the plan's
`target_field`), normalised: a list of acceptable answers keeps the first as the
target and all as `acceptable_answers`; with choices, the target is the letter
of the correct choice. Nothing here calls a model or touches the disk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, Literal

from agents.answers import letter, letter_of, normalize_answer, text_key
from agents.item_checks import placeholder_name, placeholders, premise_of
from agents.keys import seeded_rng
from store.events import BenchmarkItem, TransformationPlan
from tools.cards import DatasetCard
from tools.pool import SourceItem

# Who wrote a multiple-choice item's wrong options: the model, the dataset's closed label set,
# or the dataset's other answers (a cloze item, `agents.cloze`).
DistractorSource = Literal["llm", "label_set", "answer_pool"]


def as_text(value: Any) -> str:
    """A field value as text: strings as they are, lists line by line, the rest as JSON."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def dialog_text(value: Any) -> str:
    """A list of turns as alternating speakers A/B; other values as text."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(f"{'AB'[i % 2]}: {turn.strip()}" for i, turn in enumerate(value))
    return as_text(value)


def choice_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value]
    return None


def source_target(raw: Any) -> tuple[str, list[str]]:
    """(target, acceptable answers) from a label value."""
    if isinstance(raw, list) and raw and all(isinstance(v, str | int | float) for v in raw):
        answers = [str(v).strip() for v in raw]
        return answers[0], answers
    if isinstance(raw, str | int | float | bool):
        return str(raw).strip(), [str(raw).strip()]
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    return text, [text]


def target_as_letter(target: str, choices: list[str]) -> str | None:
    """The letter of `target` among `choices` (a letter, an index or the choice text)."""
    named = letter_of(target)
    if named is not None:
        idx = ord(named) - ord("A")
        if 0 <= idx < len(choices):
            return letter(idx)
    if target.strip().isdigit() and int(target) < len(choices) and len(choices) > 1:
        # An index only when it is not also a choice's text.
        if text_key(target) not in [text_key(c) for c in choices]:
            return letter(int(target))
    for i, c in enumerate(choices):
        if text_key(c) == text_key(target):
            return letter(i)
    return None


def compose_input(instruction: str, sections: list[tuple[str, str]], question: str) -> str:
    parts = [instruction.strip()] if instruction.strip() else []
    parts += [f"{title}:\n{body}" for title, body in sections if body]
    if question.strip():
        parts.append(f"Question: {question.strip()}")
    return "\n\n".join(parts)


def role_title(role: str) -> str:
    return role.replace("_", " ").strip().capitalize()


# A short context is an event or a premise a template may name ("{event}"); a passage is not.
_SHORT_CONTEXT = 300
# Names a template gives the event its question asks about.
_EVENT_NAMES = frozenset({"event", "premise", "situation", "scenario", "statement", "sentence",
                          "action", "context", "story", "observation", "fact"})


def fill_placeholders(text: str, fields: dict[str, str], premise: str | None) -> str:
    """`text` with each template placeholder filled from the item's own fields: the role it
    names, else the event its source question asks about (`premise`). A placeholder nothing
    fills stays, and the Verifier's `placeholder` check rejects the item."""
    for raw in placeholders(text):
        name = placeholder_name(raw)
        value = fields.get(name) or (premise.rstrip(" ?.!") if premise and name in _EVENT_NAMES
                                     else None)
        if value:
            text = text.replace(raw, value, 1)
    return text


# A source's own prompt may point at another field of its record: "<<<raw_text>>>. What is
# the relationship between the premise and hypothesis?" (General-Bench's NLI and TimeBank
# questions; the accepted TimeBank item of the temporal run shipped the marker). A marker that
# is a sentence of its own is followed by "." or ":".
_FIELD_MARKER = re.compile(r"<<<\s*([A-Za-z_][\w.]*)\s*>>>(?P<alone>\s*[.:](?:\s+|$))?")
ABOVE = "the text above"


def resolve_field_markers(text: str, paths: dict[str, list[str]], fields: dict[str, Any],
                          shown: Collection[str]) -> str:
    """`text` with each `<<<field>>>` marker resolved. When the role that field feeds (`paths`:
    role → record paths) is shown before the question (`shown`), a marker that is a sentence
    of its own is dropped and one inside a sentence becomes "the text above"; otherwise the
    marker becomes that role's own text. A marker no role feeds stays (the `placeholder` check
    rejects the item)."""
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        for role, role_paths in paths.items():
            if any(p == name or p.endswith("." + name) for p in role_paths):
                if role in shown:
                    return "" if m.group("alone") else ABOVE
                if fields.get(role) not in (None, ""):
                    return as_text(fields[role]) + (m.group("alone") or "")
        return m.group(0)
    return _FIELD_MARKER.sub(replace, text).strip()


class Draft:
    """What a sample plan needs to see of an item, and the pieces of the item to build."""

    def __init__(self, plan: TransformationPlan, card: DatasetCard, item: SourceItem) -> None:
        self.plan, self.card, self.item = plan, card, item
        raw_target = item.fields.get(plan.target_field)
        self.target, self.acceptable = source_target(raw_target)
        paths = card.meta.fields[plan.target_field].paths if plan.target_field in card.meta.fields else []
        self.target_path = paths[0] if paths else plan.target_field  # where the label sits
        self.choices: list[str] | None = None
        if "options" in plan.input_fields:
            self.choices = choice_list(item.fields.get("options"))
        question = ""
        if "question" in plan.input_fields and "question" in item.fields:
            question = as_text(item.fields["question"])
        seen_text: set[str] = {question} if question else set()
        self.sections: list[tuple[str, str]] = []
        shown: set[str] = set()
        for role in plan.input_fields:
            if role == "question" or (role == "options" and self.choices is not None):
                continue
            if role not in item.fields:
                continue
            body = dialog_text(item.fields[role]) if role == "dialog" else as_text(item.fields[role])
            if body in seen_text:
                continue  # two roles pointing at the same text
            seen_text.add(body)
            shown.add(role)
            self.sections.append((role_title(role), body))
        self._paths = {r: f.paths for r, f in card.meta.fields.items()}
        self._shown = shown
        self.source_question = resolve_field_markers(question, self._paths, item.fields, shown)
        # What a template placeholder may name: the item's text fields by role, and the event
        # its question asks about (the question's premise, else its only short context).
        self.fill_fields = {placeholder_name(role): as_text(value)
                            for role, value in item.fields.items() if value not in (None, "")}
        self.premise = premise_of(self.source_question) if self.source_question else None
        if self.premise is None and len(self.sections) == 1 and \
                len(self.sections[0][1]) <= _SHORT_CONTEXT:
            self.premise = self.sections[0][1]

    def filled(self, text: str) -> str:
        """`text` (a template, or a planned question) with its placeholders filled and its
        pointers at the record's fields resolved."""
        if not text:
            return text
        text = resolve_field_markers(text, self._paths, self.item.fields, self._shown)
        return fill_placeholders(text, self.fill_fields, self.premise)

    def leak_in(self, question: str) -> str | None:
        """The answer text a rewritten question gives away (and the source's did not)."""
        texts = list(self.acceptable)
        if self.choices:
            as_letter = target_as_letter(self.target, self.choices)
            if as_letter is not None:
                texts.append(self.choices[ord(as_letter) - ord("A")])
        return answer_leak(question, texts, self.source_question)

    def planning_view(self, chars: int, media_refs: list[str]) -> dict[str, Any]:
        """The item as the sample-level planner sees it."""
        from agents.prompts.common import clip

        doc: dict[str, Any] = {
            "fields": {title: clip(body, chars) for title, body in self.sections},
            "question": self.source_question,
            "answer": self.target,
        }
        if self.choices:
            doc["options"] = self.choices
        if media_refs:
            doc["media"] = media_refs
        return doc

    def build(
        self,
        sample_id: str,
        subtask: str,
        *,
        question: str | None,
        distractors: list[str],
        media: list[str],
        run_seed: int,
        extra_metadata: dict[str, Any],
        planned: bool = True,
        distractors_from: DistractorSource = "llm",
    ) -> BenchmarkItem:
        """The item; `planned` says a sample plan was made, so the plan's answer format is
        expected (multiple choice may rest on its distractors, which the model wrote or the
        dataset's label set gave). Without one, the item keeps the source's own format."""
        question_text = self.filled((question or "").strip()) or self.source_question
        instruction = self.filled(self.plan.question_template)
        if not question_text and instruction:
            question_text, instruction = instruction, ""
        if text_key(instruction) == text_key(question_text):
            instruction = ""
        choices = list(self.choices) if self.choices else None
        target = self.target
        metadata: dict[str, Any] = {
            "source_dataset": self.item.dataset_id,
            "source_item": self.item.id,
            "source_index": self.item.index,
            "plan_id": self.plan.plan_id,
            "question": question_text,
        }
        if self.source_question and question_text != self.source_question:
            metadata["source_question"] = self.source_question  # a fallback restores it
        if choices is None and self.plan.answer_format == "multiple_choice":
            wrong: list[str] = []
            for d in distractors:
                d = d.strip()
                if d and text_key(d) not in {text_key(a) for a in self.acceptable} | {
                        text_key(w) for w in wrong}:
                    wrong.append(d)
            if len(wrong) >= 2:
                choices = [target, *wrong[:3]]
                seeded_rng(run_seed, "choices", sample_id).shuffle(choices)
                metadata["distractors_from"] = distractors_from
        if planned and self.plan.answer_format in ("multiple_choice", "short_answer", "free_text"):
            metadata["answer_format"] = self.plan.answer_format
        else:
            metadata["answer_format"] = "multiple_choice" if choices else "short_answer"
        if choices is not None:
            as_letter = target_as_letter(target, choices)
            if as_letter is not None:
                metadata["answer_text"] = choices[ord(as_letter) - ord("A")]
                target = as_letter
        if len(self.acceptable) > 1 and choices is None:
            metadata["acceptable_answers"] = self.acceptable
        metadata.update(extra_metadata)
        return BenchmarkItem(
            id=sample_id,
            subtask=subtask,
            input=compose_input(instruction, self.sections, question_text),
            choices=choices,
            target=target,
            media=media,
            metadata=metadata,
        )


def answer_leak(question: str, answers: list[str], before: str = "") -> str | None:
    """The answer `question` gives away and `before` (the question it replaces) did not.

    Only answers of two words or more count: a one-word answer ("yes", "B") turns up
    in honest questions by chance."""
    said, was = f" {normalize_answer(question)} ", f" {normalize_answer(before)} "
    for text in answers:
        words = normalize_answer(text)
        if len(words.split()) >= 2 and f" {words} " in said and f" {words} " not in was:
            return text
    return None


def item_answers(item: BenchmarkItem) -> list[str]:
    """Every text that states an item's answer (label, option text, accepted variants)."""
    meta = item.metadata
    texts = [item.target, *[str(a) for a in meta.get("acceptable_answers", [])]]
    if "answer_text" in meta:
        texts.append(str(meta["answer_text"]))
    return texts


def with_question(item: BenchmarkItem, question: str) -> BenchmarkItem:
    """The item with its question line replaced (used by repairs; the target never changes)."""
    import msgspec

    old = str(item.metadata.get("question", ""))
    new_input = item.input
    if old and f"Question: {old}" in new_input:
        head, _, tail = new_input.rpartition(f"Question: {old}")
        new_input = f"{head}Question: {question.strip()}{tail}"
    else:
        new_input = f"{new_input}\n\nQuestion: {question.strip()}".strip()
    metadata = {**item.metadata, "question": question.strip(), "repaired": True}
    return msgspec.structs.replace(item, input=new_input, metadata=metadata)
