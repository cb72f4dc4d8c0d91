"""Scripted evaluated models for the watcher's tests, served by `ScriptedServer`.

They answer the Evaluator's prompt (agents/prompts/evaluator.py). `oracle` knows every
item's target: it looks the prompt up among the items realized in the store, read again
when a prompt is new (items of a refresh are realized while the test runs). `halfway`
knows the same targets but answers only the items whose prompt hashes even; `wrong`
answers nothing right.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from agents.prompts.evaluator import answer_messages
from store.events import EventEnvelope, SampleRealized, decode

WRONG = "Z) none of these"


def sqlite_events(db: Path) -> Callable[[], Iterable[EventEnvelope]]:
    """Every event of a SQLite store, read with a connection of its own (any thread)."""

    def read() -> list[EventEnvelope]:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return [decode(bytes(row[0])) for row in conn.execute("SELECT data FROM events")]
        finally:
            conn.close()

    return read


def nats_events(url: str) -> Callable[[], Iterable[EventEnvelope]]:
    """Every event of a JetStream store."""

    async def read_all() -> list[EventEnvelope]:
        from store.jetstream_log import JetStreamEventLog

        log = await JetStreamEventLog.connect(url)
        try:
            return [env for run in await log.runs() for env in await log.read(run)]
        finally:
            await log.close()

    return lambda: asyncio.run(read_all())


class AnswerBook:
    """Targets of the items realized in a store, by the prompt the Evaluator asks."""

    def __init__(self, read: Callable[[], Iterable[EventEnvelope]]) -> None:
        self._read = read
        self._targets: dict[str, str] = {}
        self._lock = threading.Lock()

    def target(self, messages: list[dict[str, Any]]) -> str | None:
        prompt = str(messages[-1]["content"])
        with self._lock:
            if prompt not in self._targets:
                for env in self._read():
                    if isinstance(env.payload, SampleRealized):
                        item = env.payload.item
                        asked = answer_messages(item.input, item.choices, item.media)
                        self._targets[str(asked[-1]["content"])] = item.target
            return self._targets.get(prompt)

    def oracle(self, messages: list[dict[str, Any]], schema: Any) -> str:
        return self.target(messages) or WRONG

    def halfway(self, messages: list[dict[str, Any]], schema: Any) -> str:
        if even(messages):
            return self.target(messages) or WRONG
        return WRONG


def even(messages: list[dict[str, Any]]) -> bool:
    """Whether `halfway` answers this prompt (by a hash of it)."""
    return hashlib.sha256(str(messages[-1]["content"]).encode()).digest()[0] % 2 == 0


def wrong(messages: list[dict[str, Any]], schema: Any) -> str:
    return WRONG
