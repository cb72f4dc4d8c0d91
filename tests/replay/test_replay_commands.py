"""replay, audit and log over a real SQLite log, through the CLI entry point."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import msgspec
import pytest

from benchagent.cli import main
from replay.benchmark_files import benchmark_hash, project_benchmark
from replay.output_folder import write_folder
from store.blobs import FolderBlobStore
from store.events import BenchmarkPublished, Envelope, SampleRealized
from store.sqlite_log import SQLiteEventLog
from tests.replay.forgery import rewrite_run
from tests.replay.synthetic_run import store_synthetic_media, synthetic_media, synthetic_run

RUN = "run-synthetic"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run(RUN, samples=40, reject_every=4), expected_seq=0)
        await store_synthetic_media(tmp_path, 40)
        await log.close()

    asyncio.run(fill())
    return tmp_path


@pytest.fixture(autouse=True)
def no_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replay must never reach a model: any LLM client construction or call raises."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay called an LLM")

    import autogen_ext.models.openai as oai

    monkeypatch.setattr(oai.OpenAIChatCompletionClient, "create", refuse)
    monkeypatch.setattr(oai.OpenAIChatCompletionClient, "__init__", refuse)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_replay_is_byte_identical_to_the_original(home: Path, tmp_path: Path, capsys) -> None:
    events = synthetic_run(RUN, samples=40, reject_every=4)
    pub = events[-1].payload
    assert isinstance(pub, BenchmarkPublished)
    original = tmp_path / "original"
    blobs = FolderBlobStore.beside(home / "events.db")
    write_folder(asyncio.run(project_benchmark(events, pub.sample_ids).files(blobs)), original,
                 RUN)

    out = tmp_path / "rebuilt"
    code, stdout, _ = run_cli(capsys, "replay", RUN, "--out", str(out), "--home", str(home))
    assert code == 0
    assert stdout.strip() == pub.content_hash == benchmark_hash(out) == benchmark_hash(original)
    for path in original.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(original)).read_bytes() == path.read_bytes()
    lines = (out / "benchmark.jsonl").read_text().splitlines()
    assert len(lines) == 30  # 40 samples, every 4th rejected
    assert [json.loads(x)["id"] for x in lines] == sorted(json.loads(x)["id"] for x in lines)
    assert len(list((out / "media").iterdir())) == 4  # samples 0, 10, 20, 30 carry media; none rejected


def test_replay_refuses_a_log_whose_hash_does_not_match(home: Path, tmp_path: Path, capsys) -> None:
    # An edit re-chained by a forger: the chain holds, the published content hash does not.
    def edit(env: Envelope) -> Envelope | None:
        p = env.payload
        if isinstance(p, SampleRealized) and p.sample_id == "cause-d1-00000-a1":
            item = msgspec.structs.replace(p.item, input="How did event 0 happen?")
            return msgspec.structs.replace(env, payload=msgspec.structs.replace(p, item=item))
        return None

    assert rewrite_run(home / "events.db", RUN, edit) == 1
    out = tmp_path / "rebuilt"
    code, _, err = run_cli(capsys, "replay", RUN, "--out", str(out), "--home", str(home))
    assert code != 0
    assert "differs from the published" in err and "Traceback" not in err
    assert not out.exists()


def test_audit_table_counts_rejections(home: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "audit", RUN, "--home", str(home), "--json")
    assert code == 0
    doc = json.loads(out)
    fates = {s["sample_id"]: s["fate"] for s in doc["samples"]}
    assert sum(1 for f in fates.values() if f == "rejected") == 10
    assert fates["cause-d1-00003-a1"] == "rejected"
    assert doc["rejections"] == {"answerable: context lacks the cause": 10}
    code, text, _ = run_cli(capsys, "audit", RUN, "--home", str(home))
    assert "30 accepted" in text and "10 rejected" in text


def test_audit_sample_chain_runs_from_requirement_to_verdict(home: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "audit", RUN, "--sample", "cause-d1-00003-a1", "--home", str(home), "--json")
    assert code == 0
    doc = json.loads(out)
    types = [s["type"] for s in doc["chain"]]
    assert types[0] == "RunRequested"
    for needed in ("DesignAccepted", "PlanProposed", "PlanScored", "SpecFinalized", "SlotAssigned",
                   "SampleRealized", "SampleChecked", "SampleRejected"):
        assert needed in types
    assert types[-1] == "SampleRejected"
    assert doc["fate"]["reason"] == "context lacks the cause"
    seqs = [s["seq"] for s in doc["chain"]]
    assert seqs == sorted(seqs)


def test_log_timeline(home: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "log", RUN, "--home", str(home), "--json")
    assert code == 0
    rows = json.loads(out)["events"]
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["type"] == "RunRequested" and "size=40" in rows[0]["summary"]
    code, text, _ = run_cli(capsys, "log", RUN, "--home", str(home))
    assert "BenchmarkPublished" in text.splitlines()[-1]


def test_log_json_carries_each_payload_with_media_as_hash_and_size(home: Path, capsys) -> None:
    import base64
    import hashlib

    code, out, _ = run_cli(capsys, "log", RUN, "--home", str(home), "--json")
    assert code == 0
    rows = json.loads(out)["events"]
    events = synthetic_run(RUN, samples=40, reject_every=4)
    assert len(rows) == len(events)
    for row, env in zip(rows, events, strict=True):
        assert row["payload"]["type"] == row["type"] == env.type
        assert len(row["hash"]) == 64
    by_type = {}
    for row in rows:
        by_type.setdefault(row["type"], []).append(row["payload"])
    assert by_type["RunRequested"][0]["requirement"] == "Can a model find causes?"
    realized = by_type["SampleRealized"][0]
    assert realized["item"]["input"] == "Why did event 0 happen?"
    assert by_type["SampleRejected"][0]["reason"] == "context lacks the cause"
    media_events = [e.payload for e in events if e.type == "MediaStored"]
    assert len(by_type["MediaStored"]) == len(media_events) == 4
    for i, (shown, stored) in enumerate(zip(by_type["MediaStored"], media_events, strict=True)):
        data = synthetic_media(10 * i)  # the bytes are in the blob store, never in the log
        assert shown == {"type": "MediaStored", "name": stored.name, "size": len(data),
                         "sha256": hashlib.sha256(data).hexdigest()}
        assert base64.b64encode(data).decode() not in out


@pytest.mark.parametrize("command", ["replay", "audit", "log"])
def test_unknown_run_is_one_clear_line(home: Path, tmp_path: Path, capsys, command: str) -> None:
    extra = ["--out", str(tmp_path / "x")] if command == "replay" else []
    code, _, err = run_cli(capsys, command, "no-such-run", "--home", str(home), *extra)
    assert code == 2
    assert err.strip() == "benchagent: error: unknown run id: no-such-run"


def test_store_file_that_is_not_a_log(tmp_path: Path, capsys) -> None:
    (tmp_path / "events.db").write_text("hello, not a database\n" * 100)
    code, _, err = run_cli(capsys, "log", "r", "--home", str(tmp_path))
    assert code == 2 and "is not a benchagent event log" in err and len(err.strip().splitlines()) == 1


def test_corrupted_event_makes_commands_refuse_the_run(home: Path, capsys) -> None:
    import sqlite3

    conn = sqlite3.connect(home / "events.db")
    conn.execute("UPDATE events SET data = ? WHERE seq = 5", (b"{not json",))
    conn.commit()
    conn.close()
    code, _, err = run_cli(capsys, "audit", RUN, "--home", str(home))
    assert code == 2 and "event seq 5 undecodable" in err
