"""The progress display reads the run's events: a status line on a terminal, log lines otherwise."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from benchagent.progress import Progress
from store.sqlite_log import SQLiteEventLog
from tests.agents.build_helpers import build


async def show(home: Path, interactive: bool) -> str:
    log = SQLiteEventLog(home / "events.db")
    stream = io.StringIO()
    try:
        progress = Progress(log, "run-test", stream=stream, interactive=interactive)
        await progress.update()
    finally:
        await log.close()
    return stream.getvalue()


def test_terminal_line_and_log_lines(tmp_path: Path, general_bench: Path, capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, size=6)
    assert code == 0, err
    line = asyncio.run(show(tmp_path, interactive=True))
    assert line.startswith("\rrun-test")
    assert "completed" in line and "accepted 6/6" in line and "LLM calls" in line
    assert "tokens" in line and "tokens 0" not in line
    assert line.count("\r") == 1  # drawn once, complete
    assert "ETA" in line and "|################|" in line  # a full bar
    lines = [json.loads(x) for x in asyncio.run(show(tmp_path, interactive=False)).splitlines()]
    stages = [e for e in lines if e["event"] == "stage"]
    samples = [e for e in lines if e["event"] == "samples"]
    assert stages and stages[-1]["stage"] == "completed" and stages[-1]["run_id"] == "run-test"
    assert samples and samples[-1]["accepted"] == 6 and samples[-1]["quota"] == 6
