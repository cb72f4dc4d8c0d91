"""The Verifier's format check: a realized item against the item schema (no model involved)."""

from __future__ import annotations

from collections.abc import Container

from agents.answers import letter_of
from store.events import BenchmarkItem, CheckVerdict

MAX_INPUT_CHARS = 60_000


def format_verdict(item: BenchmarkItem, sample_id: str,
                   stored_media: Container[str]) -> CheckVerdict:
    problems = format_problems(item, sample_id, stored_media)
    if problems:
        return CheckVerdict(check="format", passed=False, reason="; ".join(problems))
    return CheckVerdict(check="format", passed=True, reason="matches the item schema")


def format_problems(item: BenchmarkItem, sample_id: str,
                    stored_media: Container[str]) -> list[str]:
    """What is wrong with the item's shape; its declared `answer_format` must hold too."""
    problems = []
    if item.id != sample_id:
        problems.append(f"id {item.id!r} is not the sample id {sample_id!r}")
    if not item.subtask.strip():
        problems.append("no subtask")
    if len(item.input.strip()) < 10:
        problems.append("the input is empty or too short")
    if len(item.input) > MAX_INPUT_CHARS:
        problems.append(f"the input is longer than {MAX_INPUT_CHARS} characters")
    if not item.target.strip():
        problems.append("the target is empty")
    if item.choices is not None:
        cleaned = [c.strip() for c in item.choices]
        if len(cleaned) < 2:
            problems.append("fewer than two choices")
        if any(not c for c in cleaned):
            problems.append("an empty choice")
        if len({c.lower() for c in cleaned}) != len(cleaned):
            problems.append("duplicate choices")
        # The target is a choice's letter exactly as written ("B", not "(b)" or "b.").
        if letter_of(item.target) != item.target or ord(item.target) - ord("A") >= len(cleaned):
            problems.append(f"target {item.target!r} is not the letter of a choice")
    elif item.metadata.get("answer_format") == "multiple_choice":
        problems.append("the plan asks for multiple choice but the item has no choices")
    for name in item.media:
        if not name.startswith("media/"):
            problems.append(f"media {name!r} is not under media/")
        elif name not in stored_media:
            problems.append(f"media {name!r} was never stored")
    return problems
