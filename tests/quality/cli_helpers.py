"""Running quality commands in tests: exit code, stdout, stderr; events of a run; a scripted
judge served over real HTTP that notes what each request carried."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from benchagent.cli import main
from store.events import Envelope, RunRequested, new_event
from store.sqlite_log import SQLiteEventLog
from tests.agents.build_helpers import read_events, register_brains
from tests.replay.export_runs import MediaBrain


def cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    register_brains()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def cli_json(capsys: Any, *argv: str) -> dict[str, Any]:
    code, out, err = cli(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def events_of(home: Path, run_id: str) -> list[Envelope]:
    return read_events(home, run_id)


def types_of(home: Path, run_id: str, name: str) -> list[Envelope]:
    return [e for e in events_of(home, run_id) if e.type == name]


def add_unpublished_run(home: Path, run_id: str = "draft") -> None:
    """A run that was asked for and never published (its first event only)."""

    async def go() -> None:
        log = SQLiteEventLog(home / "events.db")
        try:
            await log.append([new_event(run_id, "cli", RunRequested(
                requirement="never built", size=2, seed=0), None)])
        finally:
            await log.close()

    asyncio.run(go())


class RecordingJudge:
    """The media brain as a judge, noting for each request whether it carried images."""

    def __init__(self) -> None:
        self.brain = MediaBrain()
        self.requests: list[dict[str, Any]] = []

    def __call__(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None,
                 purpose: str | None = None) -> str:
        user = messages[-1]["content"]
        images = [p for p in user if p.get("type") == "image_url"] if isinstance(user, list) \
            else []
        self.requests.append({"purpose": purpose, "images": len(images),
                              "text": user if isinstance(user, str) else
                              " ".join(p.get("text", "") for p in user)})
        return self.brain(messages, schema, purpose=purpose)
