"""Hand labels: which of the General-Bench subset's text datasets ask what a subtask tests.

Per subtask, whether a careful reader would ground it on each dataset (its questions, read
from a dozen sampled items, mostly ask what the subtask tests); and, for the two datasets
whose questions are mixed, each sampled question (in `agents.relevance.sampled_questions`
order) for the causal subtask. Used by tests/agents/test_relevance.py and perf/relevance.py.
"""

from __future__ import annotations

from store.events import Subtask

CAUSAL = Subtask(name="Everyday cause and effect",
                 description="Pick the more plausible cause or effect of an everyday event.",
                 capability="causal reasoning about everyday events",
                 answer_format="multiple_choice")
# The demo's subtask as the 1.5B worded it (issue 14).
CAUSAL_15B = Subtask(name="Identify causal relationships",
                     description="Identify the causal relationships between events in everyday "
                                 "scenarios.",
                     capability="causal reasoning", answer_format="multiple_choice")
TEMPORAL = Subtask(name="Temporal reasoning about events",
                   description="Infer when events happen or how long they last.",
                   capability="temporal reasoning", answer_format="short_answer")
# Scheduling a meeting: a careful reader's wording, and the 1.5B's (it describes the
# participants' availability in "dates and times", the words of every question about time).
CALENDAR = Subtask(name="Meeting scheduling under calendar constraints",
                   description="Find a meeting slot every participant is available for.",
                   capability="calendar constraint satisfaction", answer_format="short_answer")
CALENDAR_15B = Subtask(name="Identify the participants' calendar constraints",
                       description="List all the dates and times that each participant is "
                                   "available to meet. This will help in determining the "
                                   "feasible meeting time range.",
                       capability="calendar_constraints", answer_format="multiple_choice")
SOCIAL = Subtask(name="Social reaction inference",
                 description="Infer how people feel or what they want after a social event.",
                 capability="social and emotional reasoning", answer_format="multiple_choice")

TEXT_DATASETS = {
    "0d20e992": "Ethical-Reasoning", "0fa3ee6d": "Event-Coreference-Resolution",
    "2681e85c": "Document-Level-Causal-Reasoning", "2d36aa6b": "Social-Science-QA",
    "37a67448": "Temporal-Reasoning", "7fb63e11": "Causal-Reasoning",
    "c78e5c5c": "Natural-Language-Inference", "ca4f9ec3": "Temporal-Event-Reasoning",
    "cc0d075c": "Dialogue-Relation-Extraction", "f219959e": "Multi-Turn-Daily-Dialogue",
}
# (subtask, the datasets a careful reader grounds it on; every other text dataset: not)
DATASET_LABELS: list[tuple[Subtask, set[str]]] = [
    (CAUSAL, {"7fb63e11"}),
    (CAUSAL_15B, {"7fb63e11"}),
    (TEMPORAL, {"37a67448", "ca4f9ec3"}),
    (SOCIAL, {"2d36aa6b"}),
    # No text dataset of the subset schedules meetings: the everyday dialogues mask a time
    # span ("It takes us almost <MASK> to get to school"), a case of when and how long.
    (CALENDAR, set()),
    (CALENDAR_15B, set()),
]
# Per sampled question, for CAUSAL: does it ask about a cause or an effect?
QUESTION_LABELS: dict[str, list[bool]] = {
    # "Why did a former UK PM…", "What has been one result of television?", "Why are … most
    # affected by AIDS?", "Name two reasons why…", then "What action was taken … in order to
    # achieve…" (a purpose), "How does the U.S ensure…", "What facilities…", "Did president
    # Obama commit…", "What planet…", "What is the only way to fight AIDS?", "Name one aim…",
    # "In what country…".
    "2681e85c": [True, True, True, True, False, False, False, False, False, False, False, False],
    # Social situations: how someone feels after, what they need before, what they do next;
    # only "Why did Sarah cancel her date…?" asks for a cause.
    "2d36aa6b": [False] * 8 + [True] + [False] * 3,
}

# Subtasks the built-in generators are made for, beside the text subtasks above.
PHYSICS = Subtask(name="Physical dynamics of moving objects",
                  description="Predict where moving objects go after they collide.",
                  capability="physical reasoning about trajectories and collisions",
                  answer_format="multiple_choice")
CODE = Subtask(name="Debugging Python code",
               description="Find what a buggy Python function returns or where its bug is.",
               capability="code debugging", answer_format="multiple_choice")
ALGEBRA = Subtask(name="Faulty algebra steps",
                  description="Name the wrong step of an algebraic derivation.",
                  capability="mathematical derivation checking", answer_format="short_answer")
# The media subtasks of tests/replay/export_runs.py.
NEXT_FRAME = Subtask(name="Next frame prediction",
                     description="Predict the next frame of a physics simulation shown as images "
                                 "of moving objects.",
                     capability="visual causal reasoning about motion and collisions in images",
                     answer_format="multiple_choice")
SPOKEN = Subtask(name="Spoken dialogue understanding",
                 description="Answer a question about a noisy spoken dialogue audio recording "
                             "between several speakers.",
                 capability="speech understanding of spoken dialogue audio",
                 answer_format="short_answer")
GENERATORS = ("calendar", "causal_physics", "proofs", "code_debugging", "speech_dialogue",
              "ba_text")
# (subtask, the built-in generators a careful reader grounds it on, by what their items
# ask; every other generator: not). Collision frames ("which frame comes next?") are physical
# dynamics, not cause and effect in everyday events; a meeting slot is scheduling, not when
# events happen or how long they last.
GENERATOR_LABELS: list[tuple[Subtask, set[str]]] = [
    (CAUSAL, set()),
    (CAUSAL_15B, set()),
    (TEMPORAL, set()),
    (SOCIAL, set()),
    (CALENDAR, {"calendar"}),
    (CALENDAR_15B, {"calendar"}),
    (PHYSICS, {"causal_physics"}),
    (CODE, {"code_debugging"}),
    (ALGEBRA, {"proofs"}),
    (NEXT_FRAME, {"causal_physics"}),
    (SPOKEN, {"speech_dialogue"}),
]
