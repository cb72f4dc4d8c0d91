"""A run that no event can move any more is not waited for forever.

The real case: two quotas gave the same sample ids, two slots were never assigned, nothing
was in flight, and `build` waited 75 minutes. Here a handler drops its work on purpose (a
monkeypatched handler, standing for any such bug) in a real embedded build: the build
records `RunStalled`, reports the open slot short saying which of its steps never
happened, and publishes the rest. A run that the stall cannot close (no spec yet) ends the
build in one line, shows as `stalled` and resumable in `runs`, and `build --resume` (the
bug gone) finishes it, reusing every recorded answer. The NATS bus tells idleness from its
role consumers' pending and un-acked events, and stalls the same way.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agents.allocation import AllocationAgent
from agents.verifier import VerifierAgent
from benchagent.cli import main
from store.events import Envelope, SampleRealized, SubtasksGrounded
from store.jetstream_log import JetStreamEventLog
from tests.agents.build_helpers import build, of_type, read_events
from tests.nats_server import NatsServer

QUICK = "stall_after_s: 0.5\n"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "quick.yaml"
    path.write_text(QUICK)
    return path


def drop_the_first_verification(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the Verifier drop the first sample it is asked to verify; the dropped id."""
    verify = VerifierAgent.verify
    dropped: list[str] = []

    async def drops_the_first(self: VerifierAgent, event: Envelope[SampleRealized],
                              ctx: Any) -> None:
        if not dropped:
            dropped.append(event.payload.sample_id)
            return  # the bug: no verdict, no replenishment, nothing in flight
        await verify(self, event, ctx)

    monkeypatch.setattr(VerifierAgent, "verify", drops_the_first)
    return dropped


def test_a_dropped_verification_is_reported_short_and_the_rest_published(
        tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dropped = drop_the_first_verification(monkeypatch)
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, "--config", str(config(tmp_path)),
                           size=6)
    assert code == 0, err
    assert doc is not None and doc["status"] == "completed"
    assert doc["shortfall"] == 1 and doc["accepted"] == 5
    events = read_events(home)
    (stall,) = of_type(events, "RunStalled")
    assert stall.agent == "cli" and stall.payload.after_seq == stall.seq - 1
    short = [e for e in of_type(events, "QuotaShortfall") if e.causation_id == stall.event_id]
    assert len(short) == 1
    assert f"its attempt {dropped[0]} was realized but never verified" in short[0].payload.reason
    assert of_type(events, "RunCompleted")
    lines = (home / "runs" / "run-test" / "benchmark.jsonl").read_text().splitlines()
    assert len(lines) == 5 and dropped[0] not in "".join(lines)


def test_a_stall_nothing_can_close_ends_the_build_and_resume_finishes_it(
        tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def drops(self: AllocationAgent, event: Envelope[SubtasksGrounded], ctx: Any) -> None:
        return  # the bug: the grounded subtasks are never allocated

    allocate = AllocationAgent.allocate
    monkeypatch.setattr(AllocationAgent, "allocate", drops)
    home = tmp_path / "home"
    code, _, err = build(capsys, home, general_bench, "--config", str(config(tmp_path)),
                         size=6)
    assert code == 1
    (line,) = [x for x in err.splitlines() if x.startswith("benchagent:")]
    assert "run run-test stalled: no role had work for 0.5 s" in line
    assert "last event SubtasksGrounded" in line and "--resume run-test" in line
    assert "Traceback" not in err
    events = read_events(home)
    assert len(of_type(events, "RunStalled")) == 1  # the stall moved nothing: recorded once
    paid = len(of_type(events, "LLMCallRecorded"))

    assert main(["runs", "--home", str(home), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["runs"]
    assert (row["status"], row["resumable"]) == ("stalled", True)
    assert "no role had work" in row["reason"]

    monkeypatch.setattr(AllocationAgent, "allocate", allocate)  # the bug fixed
    assert main(["build", "--resume", "run-test", "--home", str(home), "--json",
                 "--config", str(config(tmp_path))]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (doc["status"], doc["accepted"] + doc["shortfall"]) == ("completed", 6)
    events = read_events(home)
    design_and_grounding = [e for e in of_type(events, "LLMCallRecorded")
                            if e.payload.role in ("design", "grounding")]
    assert len(design_and_grounding) == paid  # nothing answered before was asked again
    assert not [e for e in of_type(events, "QuotaShortfall") if "stalled" in e.payload.reason]


def test_over_nats_a_dropped_verification_is_reported_short_too(
        tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dropped = drop_the_first_verification(monkeypatch)
    with NatsServer(tmp_path / "nats") as server:
        code, doc, err = build(capsys, tmp_path / "home", general_bench, "--store", server.url,
                               "--config", str(config(tmp_path)), size=4)
        events = asyncio.run(read_nats(server.url))
    assert code == 0, err
    assert doc is not None and (doc["status"], doc["accepted"], doc["shortfall"]) == (
        "completed", 3, 1)
    (stall,) = of_type(events, "RunStalled")
    (short,) = [e for e in of_type(events, "QuotaShortfall") if e.causation_id == stall.event_id]
    assert f"its attempt {dropped[0]} was realized but never verified" in short.payload.reason


async def read_nats(url: str) -> list[Envelope]:
    log = await JetStreamEventLog.connect(url)
    try:
        return await log.read("run-test")
    finally:
        await log.close()
