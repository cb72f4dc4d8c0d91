"""A subtask is a kind of test item the evaluated model answers, not a step of building one.

Asked for subtasks of "predict from images how objects in a 2D physics scene move next", the
1.5B proposed "Image preprocessing" (resize, normalise, augment), "Model training" and "Model
deployment": the steps of a machine-learning project. No dataset or generator grounds them,
three design rounds revised them into the same, and the run ended on one subtask grounded by
accident. Telling them apart is measured, not asked (a prompt that said so made the demo's
subtasks worse): a subtask whose name or capability names a build step is dropped before
review, and when every proposal is one, the requirement itself is the subtask (as with the
`design` ablation), named by what it asks the model to do. Its next run kept "Model
evaluation" ("calculating metrics such as accuracy, precision, recall"): measuring a model is
a step of the project too, not an item a model answers.
"""

from __future__ import annotations

import re

from store.events import AnswerFormat, BuildStep, Subtask

# The steps of building, not testing, a model: what its name or capability says it does.
_BUILD_STEP = re.compile(
    r"\b(?:(?:model|network)\s+)?(?:training|deploy(?:ment|ing)?|pre-?process(?:ing)?|"
    r"fine-?tun(?:e|ed|ing)|hyper-?parameters?(?:\s+tuning)?|data\s+augmentation|"
    r"data\s+collection|model\s+architecture|train(?:ing)?\s+(?:the|a)\s+model|"
    r"(?:model|performance)\s+(?:evaluation|validation)|evaluation\s+metrics)\b",
    re.IGNORECASE)
# "I want to evaluate whether a model can …", "Test how well LLMs …": the words before the ask.
_ASK_PREFIX = re.compile(
    r"^\s*(?:i\s+(?:want|would\s+like|need)\s+to\s+)?(?:evaluate|test|measure|assess|"
    r"benchmark|check)\s+(?:whether|if|how\s+well)\s+(?:an?\s+)?(?:\w+\s+)?"
    r"(?:models?|llms?|systems?|assistants?)\s+(?:can\s+|could\s+)?",
    re.IGNORECASE)
NAME_CHARS = 60


def build_step(sub: Subtask) -> str:
    """The build step a subtask's name or capability names ("" for none)."""
    found = _BUILD_STEP.search(f"{sub.name} | {sub.capability.replace('_', ' ')}")
    return " ".join(found.group(0).split()).lower() if found else ""


def drop_build_steps(subtasks: list[Subtask]) -> tuple[list[Subtask], list[BuildStep]]:
    """The subtasks that are test items, and the build steps dropped (with what they name)."""
    kept: list[Subtask] = []
    dropped: list[BuildStep] = []
    for sub in subtasks:
        if step := build_step(sub):
            dropped.append(BuildStep(name=sub.name, step=step))
        else:
            kept.append(sub)
    return kept, dropped


def requirement_subtask(requirement: str,
                        answer_format: AnswerFormat = "multiple_choice") -> Subtask:
    """The requirement as the single subtask, named by what it asks the model to do (its
    answer format: the one the proposals named most)."""
    ask = _ASK_PREFIX.sub("", requirement).strip().rstrip(".")
    ask = ask or requirement.strip()
    name = ask if len(ask) <= NAME_CHARS else ask[:NAME_CHARS].rsplit(" ", 1)[0]
    return Subtask(name=name[:1].upper() + name[1:], description=requirement.strip(),
                   capability=ask, answer_format=answer_format,
                   distinct_focus="the requirement as a whole")
