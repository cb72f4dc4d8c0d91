"""Labelled subtask pairs: near-duplicates (one capability in other words) and distinct ones.

Written by hand to pick and check `agents.subtask_overlap.DUPLICATE_THRESHOLD`; the first
two duplicate pairs are the three subtasks the 1.5B proposed for the demo (issue 14).
"""

from __future__ import annotations

from store.events import Subtask


def S(name: str, description: str, capability: str) -> Subtask:  # noqa: N802
    return Subtask(name=name, description=description, capability=capability,
                   answer_format="multiple_choice")



PAIRS: list[tuple[Subtask, Subtask, bool]] = [
 # duplicates
 (S("Identify causal relationships", "Identify the causal relationships between events in everyday scenarios.", "causal reasoning"),
  S("Analyze the impact of different causes", "Analyze how different causes affect the outcome of everyday events.", "causal reasoning"), True),
 (S("Identify causal relationships", "Identify the causal relationships between events in everyday scenarios.", "causal reasoning"),
  S("Evaluate the validity of causal reasoning", "Evaluate whether a piece of causal reasoning about everyday events is valid.", "causal reasoning"), True),
 (S("Cause identification", "Pick the cause of an everyday event.", "causal reasoning about everyday events"),
  S("Cause and effect identification", "Pick the cause or the effect of an everyday event among alternatives.", "causal reasoning about everyday events"), True),
 (S("Effect prediction", "Predict the most likely effect of an everyday event.", "predicting effects of events"),
  S("Consequence prediction", "Predict what happens as a consequence of an everyday event.", "predicting consequences"), True),
 (S("Temporal ordering", "Order the events of a short story in time.", "temporal reasoning"),
  S("Event sequencing", "Put the events of a story in their temporal order.", "temporal ordering of events"), True),
 (S("Math word problems", "Solve arithmetic word problems about everyday situations.", "arithmetic reasoning"),
  S("Arithmetic word problem solving", "Solve short word problems that need arithmetic.", "arithmetic word problems"), True),
 (S("Car image classification", "Classify the make of the car shown in an image.", "visual classification of cars"),
  S("Car brand recognition", "Recognise the brand of a car in an image.", "visual recognition of car brands"), True),
 (S("Sentiment classification", "Classify the sentiment of product reviews.", "sentiment analysis"),
  S("Review sentiment analysis", "Decide whether a product review is positive or negative.", "sentiment classification of reviews"), True),
 (S("Counterfactual reasoning", "Say what would happen if an event had not occurred.", "counterfactual reasoning"),
  S("Counterfactual outcome inference", "Infer the outcome had a past event gone differently.", "counterfactual inference"), True),
 (S("Causal chain reasoning", "Follow multi-step chains of causes and effects.", "multi-step causal reasoning"),
  S("Multi-hop causal inference", "Infer an effect through several causal steps.", "multi-hop causal reasoning"), True),
 (S("Reading comprehension", "Answer questions about a passage.", "reading comprehension"),
  S("Passage question answering", "Answer a question from a given text passage.", "reading comprehension of passages"), True),
 (S("Social reaction inference", "Infer how people feel after a social event.", "social and emotional reasoning"),
  S("Emotional consequence reasoning", "Infer how a person feels as a result of an everyday social situation.", "emotional reasoning about social situations"), True),
 (S("Understanding cause and effect", "Determine the cause and effect relationship in everyday events.", "causal understanding"),
  S("Causal relationship identification", "Identify which event causes another in everyday situations.", "identifying causal relationships"), True),
 # distinct
 (S("Cause and effect identification", "Pick the cause or the effect of an everyday event among alternatives.", "causal reasoning about everyday events"),
  S("Social consequence reasoning", "Infer how people feel or react after an everyday social event.", "social and emotional reasoning"), False),
 (S("Cause and effect identification", "Pick the cause or the effect of an everyday event among alternatives.", "causal reasoning about everyday events"),
  S("Temporal span inference", "Infer the duration of a masked time span in an everyday dialogue.", "temporal reasoning in dialogue"), False),
 (S("Causal direction", "Decide whether A causes B or B causes A.", "causal direction"),
  S("Counterfactual reasoning", "Say what would happen if an event had not occurred.", "counterfactual reasoning"), False),
 (S("Causes in long documents", "Find why an event happened from a long news or science article.", "document-level causal reading"),
  S("Everyday effect prediction", "Pick the more plausible effect of a one-sentence everyday event.", "predicting everyday effects"), False),
 (S("Faulty step localisation", "Find the faulty step of a multi-step algebraic proof.", "step-by-step proof verification"),
  S("Bug impact reasoning", "Work out how a planted bug changes what a small function returns.", "code debugging"), False),
 (S("Visual recognition", "Recognise what an image shows, such as the brand of a car.", "visual recognition in images"),
  S("Chart reading", "Read values and trends from a bar or line chart.", "chart understanding"), False),
 (S("Causal explanation writing", "Write a free-text explanation of why an event happened.", "explaining causes"),
  S("Causal plausibility judgement", "Choose which of two alternatives is the more plausible cause.", "judging causal plausibility"), False),
 (S("Temporal ordering", "Order the events of a short story in time.", "temporal reasoning"),
  S("Duration estimation", "Estimate how long an everyday activity takes.", "reasoning about durations"), False),
 (S("Arithmetic word problems", "Solve arithmetic word problems about everyday situations.", "arithmetic reasoning"),
  S("Geometry problems", "Compute areas and angles of plane figures.", "geometric reasoning"), False),
 (S("Sentiment classification", "Classify the sentiment of product reviews.", "sentiment analysis"),
  S("Sarcasm detection", "Tell whether a sentence is meant sarcastically.", "recognising sarcasm"), False),
 (S("Natural language inference", "Decide whether a hypothesis follows from a premise.", "textual entailment"),
  S("Cause and effect identification", "Pick the cause or the effect of an everyday event among alternatives.", "causal reasoning about everyday events"), False),
 (S("Moral judgement", "Judge whether an action in a short story is ethical.", "moral reasoning"),
  S("Social norm reasoning", "Infer what people are expected to do in a social situation.", "social norms"), False),
 (S("Psychological causes of behaviour", "Infer the motive that made a person act as they did.", "reasoning about motives"),
  S("Physical cause and effect", "Predict what physically happens after an everyday action.", "intuitive physics"), False),
 (S("Large photo recognition", "Say what a large photo (image) shows.", "visual recognition in images"),
  S("Long recording recognition", "Say what a long audio recording shows.", "audio recognition"), False),
]
