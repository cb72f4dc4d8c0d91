"""A deterministic scripted model for the pipeline's prompts (used with the scripted clients).

`ScriptedBrain(...)` is a responder `(messages, schema, purpose=None) -> str`: it
reads the purpose (the schema's title) and the facts block of the request and
answers like a careful but simple model would, always the same way for the same
request. Knobs make the test paths happen:
- `unsupported_subtask`: the design proposes a video subtask nobody can ground,
  so grounding fails it and design revises it (the feedback loop);
- `reject_percent` / `repair_percent`: the share of items the verifier rejects
  for depending on a shortcut (by a hash of the item), of which the first part
  is said to be repairable by rewording.
It also answers multiple-choice questions without a schema (the Verifier's blind solve and
the Evaluator's answers) as a reader who knows the General-Bench subset would: the letter
of the option its annotation marks correct (or the one option that is not a distractor it
wrote itself), wrong (the next letter) on a share `miss_percent` of items by a hash of the
item, and letter A for options it does not know (custom pools, generators; `answer_option`
lets a subclass choose).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

_FACTS = re.compile(r"```json\n(.*?)\n```", re.S)
_WORD = re.compile(r"[a-z]{4,}")
_STOP = {"with", "from", "that", "this", "their", "model", "models", "whether", "about",
         "each", "item", "items", "given", "which", "text", "answer", "question", "questions",
         "evaluate", "ability", "dataset", "benchmark", "into", "what", "when", "where", "they"}

TOPICS = [
    (("cause", "causal", "effect"),
     {"name": "Cause and effect identification",
      "description": "Pick the cause or the effect of an everyday event among alternatives.",
      "capability": "causal reasoning about everyday events", "answer_format": "multiple_choice",
      "distinct_focus": "which of two events is the cause or the effect"}),
    (("feel", "social", "emotion", "react"),
     {"name": "Social consequence reasoning",
      "description": "Infer how people feel or react after an everyday social event.",
      "capability": "social and emotional reasoning", "answer_format": "multiple_choice",
      "distinct_focus": "people's feelings and reactions"}),
    (("time", "temporal", "duration", "when"),
     {"name": "Temporal span inference",
      "description": "Infer the duration of a masked time span in an everyday dialogue.",
      "capability": "temporal reasoning in dialogue", "answer_format": "multiple_choice",
      "distinct_focus": "how long things take"}),
    (("proof", "faulty step", "derivation"),
     {"name": "Faulty step localisation",
      "description": "Find the faulty step of a multi-step algebraic proof or derivation.",
      "capability": "step-by-step proof verification", "answer_format": "short_answer",
      "distinct_focus": "the faulty step of a proof"}),
    (("debug", "bug", "code"),
     {"name": "Bug impact reasoning",
      "description": "Work out how a planted bug changes what a small function returns.",
      "capability": "code debugging", "answer_format": "multiple_choice",
      "distinct_focus": "what a bug changes"}),
    (("image", "visual", "picture", "photo"),
     {"name": "Visual recognition",
      "description": "Recognise what an image shows, such as the brand of a car.",
      "capability": "visual recognition in images", "answer_format": "short_answer",
      "distinct_focus": "what an image shows"}),
]
DEFAULT_TOPICS = (0, 1, 2)
# The three wordings of one capability the 1.5B proposed for the demo (issue 14).
DUPLICATE_SUBTASKS = [
    {"name": "Identify causal relationships",
     "description": "Identify the causal relationships between events in everyday scenarios.",
     "capability": "causal reasoning", "answer_format": "multiple_choice",
     "distinct_focus": "which event causes which"},
    {"name": "Analyze the impact of different causes",
     "description": "Analyze how different causes affect the outcome of everyday events.",
     "capability": "causal reasoning", "answer_format": "multiple_choice",
     "distinct_focus": "the impact of causes"},
    {"name": "Evaluate the validity of causal reasoning",
     "description": "Evaluate whether a piece of causal reasoning about everyday events is valid.",
     "capability": "causal reasoning", "answer_format": "multiple_choice",
     "distinct_focus": "validity of reasoning"},
]
VIDEO_SUBTASK = {"name": "Causal reasoning over video clips",
                 "description": "Explain why an event happens in a short video clip.",
                 "capability": "video causal reasoning", "answer_format": "short_answer",
                 "distinct_focus": "causes seen in video"}
DISTRACTORS = ["ten minutes", "three weeks", "a year", "two hours", "five days", "six months",
               "an afternoon", "a decade"]


def facts(messages: list[dict[str, Any]]) -> dict[str, Any]:
    content = messages[-1]["content"]
    if isinstance(content, list):  # text and image parts: the facts are in the text
        content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    found = _FACTS.findall(content if isinstance(content, str) else "")
    return json.loads(found[-1]) if found else {}


def words(*texts: Any) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out |= {w.rstrip("s") for w in _WORD.findall(str(t).lower())} - _STOP
    return out


def needed_modality(subtask: dict[str, Any]) -> str | None:
    text = " ".join(str(v) for v in subtask.values()).lower()
    for modality, keys in (("video", ("video",)), ("image", ("image", "visual", "photo")),
                           ("audio", ("audio", "speech", "spoken"))):
        if any(k in text for k in keys):
            return modality
    return None


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


GENERAL_BENCH = Path(os.environ.get(
    "BENCHAGENT_GENERAL_BENCH",
    Path(__file__).resolve().parents[3] / "shared/datasets/general-bench-subset/data"))
_OPTION = re.compile(r"^([A-Z])\. (.*)$")


@lru_cache(maxsize=1)
def answer_key() -> dict[str, list[tuple[frozenset[str], str]]]:
    """Per option text, the (options, correct option) of every General-Bench record offering
    it (empty when the subset is not there)."""
    key: dict[str, list[tuple[frozenset[str], str]]] = {}
    for path in sorted(GENERAL_BENCH.glob("datasets/**/annotation.json")):
        for record in json.loads(path.read_text()).get("data", []):
            options = (record.get("input") or {}).get("options")
            answer = str((record.get("output") or {}).get("answer", ""))
            if not isinstance(options, list) or len(answer) != 1 or not answer.isalpha():
                continue
            index = ord(answer.upper()) - ord("A")
            if not 0 <= index < len(options):
                continue
            texts = frozenset(str(o).strip() for o in options)
            for text in texts:
                key.setdefault(text, []).append((texts, str(options[index]).strip()))
    return key


_MARKER = re.compile(r"<<<\w+>>>\.?")


@lru_cache(maxsize=1)
def label_key() -> list[tuple[tuple[str, ...], str]]:
    """(the openings of its text fields, its label) of every General-Bench record without
    options whose label is a short text: how the brain knows the answer among options drawn
    from a dataset's label set or its other answers."""
    key = []
    for path in sorted(GENERAL_BENCH.glob("datasets/**/annotation.json")):
        for record in json.loads(path.read_text()).get("data", []):
            fields = record.get("input") or {}
            output = record.get("output") or {}
            label = output.get("answer", output.get("text"))
            if isinstance(label, list) and label and isinstance(label[0], str):
                label = label[0]  # paraphrases of one answer (a cloze item's): the first
            if "options" in fields or not isinstance(label, str) or len(label) > 40:
                continue
            openings = tuple(_MARKER.sub("", str(v)).strip()[:60] for v in fields.values()
                             if isinstance(v, str) and _MARKER.sub("", v).strip())
            if openings:
                key.append((openings, label.strip()))
    return key


def shown_options(content: str) -> list[str]:
    """The option texts of a prompt's "Options:" block, in letter order."""
    _, _, block = content.rpartition("\nOptions:\n")
    return [m.group(2).strip() for line in block.splitlines() if (m := _OPTION.match(line))]


class ScriptedBrain:
    def __init__(self, *, unsupported_subtask: bool = False, reject_percent: int = 20,
                 repair_percent: int = 10, duplicate_subtasks: bool = False,
                 miss_percent: int = 10) -> None:
        self.unsupported_subtask = unsupported_subtask
        self.duplicate_subtasks = duplicate_subtasks
        self.reject_percent = reject_percent
        self.repair_percent = repair_percent
        self.miss_percent = miss_percent

    def __call__(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None,
                 purpose: str | None = None) -> str:
        if schema is None:
            return self.answer(messages)
        purpose = purpose or schema.get("title", "")
        handler = getattr(self, purpose.replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"the scripted brain has no answer for {purpose!r}")
        return json.dumps(handler(facts(messages)), sort_keys=True)

    # ------------------------------------------------------------- design

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        req = str(f["requirement"]).lower()
        picked = [i for i, (keys, _) in enumerate(TOPICS) if any(k in req for k in keys)]
        for i in DEFAULT_TOPICS:
            if len(picked) >= 3:
                break
            if i not in picked:
                picked.append(i)
        subtasks = [dict(TOPICS[i][1]) for i in picked[:3]]
        if self.unsupported_subtask:
            subtasks.insert(0, dict(VIDEO_SUBTASK))
        if self.duplicate_subtasks:  # the three, then a distinct social one
            subtasks = [dict(s) for s in DUPLICATE_SUBTASKS] + [dict(TOPICS[1][1])]
        return {"subtasks": subtasks, "reason": "one subtask per capability the requirement names"}

    def design_review(self, f: dict[str, Any]) -> dict[str, Any]:
        cands = f["candidates"]
        reviews = []
        for i, c in enumerate(cands):
            if i == len(cands) - 1 and len(cands) >= 3:
                revised = dict(c, description=c["description"][:200] + " One answer per item.")
                reviews.append({"name": c["name"], "decision": "revise",
                                "reason": "scope it to items with one unambiguous answer",
                                "revised": revised})
            else:
                reviews.append({"name": c["name"], "decision": "keep",
                                "reason": "well-posed and testable", "revised": c})
        return {"reviews": reviews}

    def design_revise(self, f: dict[str, Any]) -> dict[str, Any]:
        reviews = []
        for failure in f["failed"]:
            s = failure["subtask"]
            revised = {"name": s["name"].replace("video clips", "short stories"),
                       "description": "Explain why a character of a short text story acts as "
                                      "they do.",
                       "capability": "characters' motives in fiction",
                       "answer_format": "multiple_choice",
                       "distinct_focus": "why a person acts, not what an event causes"}
            reviews.append({"name": s["name"], "decision": "revise",
                            "reason": "no dataset has video; text stories carry the same signal",
                            "revised": revised})
        return {"reviews": reviews}

    # ---------------------------------------------------------- grounding

    def grounding_preferences(self, f: dict[str, Any]) -> dict[str, Any]:
        s = f["subtask"]
        need = needed_modality(s)
        modality = {"video": ["video"], "image": ["image", "text"],
                    "audio": ["audio", "text"]}.get(need or "", ["text"])
        mc = s.get("answer_format") == "multiple_choice"
        return {"modality": modality,
                "annotation": "multiple-choice labels" if mc else "short text answers",
                "domain": "everyday events", "query": f"{s['name']} {s['capability']}"[:120],
                "reason": f"the subtask needs {'+'.join(modality)} inputs"}

    def grounding_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        s, d = f["subtask"], f["dataset"]
        roles = d["roles"]
        text_roles = [r for r, v in roles.items() if v["modality"] == "text"]
        media = [r for r, v in roles.items() if v["modality"] != "text"]
        target = next((r for r in ("answer", "category") if r in text_roles), text_roles[-1])
        inputs = [r for r in text_roles if r != target]
        tools = []
        if media and any(t["name"] == "image_resize" for t in f.get("tools", [])):
            tools.append({"name": "image_resize", "arguments": {
                "input": "{media}", "output": "{out}", "width": 96, "mode": "fit"}})
        fmt = "multiple_choice" if ("options" in roles or s.get("answer_format") ==
                                    "multiple_choice") else "short_answer"
        plan = {"instructions": f"Keep each item's {', '.join(inputs) or 'media'}; the answer is "
                                f"its {target}.",
                "question_template": f"Answer to show {s.get('capability', 'the skill')}."[:200],
                "input_fields": inputs, "target_field": target, "answer_format": fmt,
                "reason": f"{d['name']} labels {target} directly"}
        if "tools" in f:  # only offered for datasets with media
            plan["tools"] = tools
        return plan

    def grounding_generator_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"instructions": f"Generate {f['dataset']['name']} problems at default settings.",
                "params": {}, "reason": "defaults are valid"}

    def grounding_score(self, f: dict[str, Any]) -> dict[str, Any]:
        s, d, plan = f["subtask"], f["dataset"], f["plan"]
        need = needed_modality(s)
        overlap = words(s.get("name"), s.get("description"), s.get("capability")) & words(
            d["name"], d["description"], " ".join(d["tasks"]), d["domain"])
        alignment = {0: 2, 1: 3, 2: 4}.get(len(overlap), 5)
        if need is not None and need not in d["modalities"]:
            alignment = 1
        signal = 4 if plan.get("target_field") else 2
        return {"alignment": alignment, "robustness": 4, "signal_preservation": signal,
                "reason": f"shared focus: {', '.join(sorted(overlap)) or 'none'}"[:200]}

    # ------------------------------------------------------- orchestrator

    def orchestrator_sample_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        item, plan = f["item"], f["plan"]
        question = item.get("question") or ""
        if not question:
            text = " ".join(item.get("fields", {}).values())
            question = ("Which time expression best replaces <MASK>?" if "<MASK>" in text
                        else plan.get("question_template") or "What is the answer?")
        distractors: list[str] = []
        if plan.get("answer_format") == "multiple_choice" and not item.get("options"):
            start = digest(str(item.get("answer"))) % len(DISTRACTORS)
            pool = DISTRACTORS[start:] + DISTRACTORS[:start]
            distractors = [d for d in pool if d != item.get("answer")][:3]
        answer = {"question": question[:400], "distractors": distractors,
                  "notes": "question kept close to the source"}
        if f.get("tools"):  # only offered for items with media
            answer["tool_calls"] = [{"name": "image_resize", "arguments": {
                "input": item["media"][0], "output": "out/small.png", "width": 96,
                "mode": "fit"}}] if item.get("media") else []
        return answer

    def orchestrator_repair(self, f: dict[str, Any]) -> dict[str, Any]:
        question = str(f["item"].get("question") or "what is the answer?")
        return {"question": f"Using only the information given above, {question[:300]}",
                "notes": "points the model at the given context"}

    # ---------------------------------------------------------- verifier

    def verifier_check(self, f: dict[str, Any]) -> dict[str, Any]:
        item = f["item"]
        text = str(item["input"])
        repaired = "Using only the information given above" in text
        h = digest(text) % 100
        shortcut = not repaired and h < self.reject_percent
        if len(text) <= 30:
            return {"reason": "no context", "failed_check": "answerable", "repairable": False,
                    "repair_hint": ""}
        if shortcut:
            return {"reason": "a surface cue gives the answer away",
                    "failed_check": "depends_on_signal", "repairable": h < self.repair_percent,
                    "repair_hint": "ask explicitly for reasoning from the given context"}
        return {"reason": "fine", "failed_check": "none", "repairable": False, "repair_hint": ""}

    # ------------------------------------------------------------ judge

    def judge_item(self, f: dict[str, Any]) -> dict[str, Any]:
        """Scores 2-5 that depend on the item (a digest of what the judge was shown)."""
        text = json.dumps(f, sort_keys=True)
        answer: dict[str, Any] = {}
        for i, metric in enumerate(("fsq", "qac", "cqc", "tsd", "ssc")):
            score = 2 + (digest(f"{metric}:{text}") + i) % 4
            answer[f"{metric}_reason"] = f"{metric} looks {'fine' if score >= 3 else 'weak'}"
            answer[metric] = score
        return answer

    def judge_benchmark(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"uia_reason": f"{len(f.get('subtasks', []))} subtasks cover the requirement",
                "uia": 4}

    def evaluator_rubric(self, f: dict[str, Any]) -> dict[str, Any]:
        """Every criterion but the ones whose text mentions 'never' is satisfied."""
        answer: dict[str, Any] = {}
        for cid, text in f["criteria"].items():
            ok = "never" not in text.lower()
            answer[f"{cid}_reason"] = "the response does this" if ok else "it does not"
            answer[cid] = ok
        return answer

    # -------------------------------------------------------- evaluation

    def answer(self, messages: list[dict[str, Any]]) -> str:
        content = str(messages[-1].get("content", ""))
        if "\nOptions:\n" not in content:
            return "unknown"
        options = shown_options(content)
        index = self.answer_option(options)
        if index is None:  # options from a label set: the record the item shows
            labels = {label for openings, label in label_key()
                      if label in options and all(o in content for o in openings)}
            index = options.index(labels.pop()) if len(labels) == 1 else None
        if index is None:
            return "A"
        if digest(content) % 100 < self.miss_percent:
            index = (index + 1) % len(options)
        return chr(ord("A") + index)

    def answer_option(self, options: list[str]) -> int | None:
        """The index of the option the annotation marks correct, or the one option that is
        not a distractor this brain writes in its sample plans (None: it cannot tell)."""
        shown = set(options)
        for text in options:
            for texts, correct in answer_key().get(text, []):
                if texts <= shown and correct in shown:
                    return options.index(correct)
        own = [i for i, o in enumerate(options) if o not in DISTRACTORS]
        return own[0] if len(own) == 1 and len(options) > 1 else None


brain = ScriptedBrain()
feedback_brain = ScriptedBrain(unsupported_subtask=True)
strict_brain = ScriptedBrain(reject_percent=50, repair_percent=10)
duplicate_brain = ScriptedBrain(duplicate_subtasks=True)
