"""A 20 MB image and a 10-minute WAV build, replay and verify on a stock `nats-server -js`
(no config file: a 1 MB max_payload), because media bytes are blobs in a JetStream Object
Store bucket and events carry only their sha256 and size. In embedded mode a blob that goes
missing or is altered is named by `verify` and refused by `replay`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from benchagent.cli import main
from replay.benchmark_files import benchmark_hash, directory_hash
from store.events import encode
from store.jetstream_log import JetStreamEventLog
from tests.agents.scripted_brain import ScriptedBrain
from tests.nats_server import NatsServer
from tools.llm.scripted import register_responder

MB = 1 << 20
WAV_RATE = 16_000
WAV_SECONDS = 600
SUBTASKS = [
    {"name": "Large photo recognition", "description": "Say what a large photo (image) shows.",
     "capability": "visual recognition in images", "answer_format": "short_answer",
     "distinct_focus": "photos"},
    {"name": "Long recording recognition",
     "description": "Say what a long audio recording shows.",
     "capability": "audio recognition", "answer_format": "short_answer",
     "distinct_focus": "recordings"},
]


class BigMediaBrain(ScriptedBrain):
    """Two subtasks over the big-media dataset; no tool resizes or cuts its media."""

    def __init__(self) -> None:
        super().__init__(reject_percent=0)

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [dict(s) for s in SUBTASKS], "reason": "one per modality"}

    def design_review(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"reviews": [{"name": c["name"], "decision": "keep", "reason": "fine",
                             "revised": c} for c in f["candidates"]]}

    def grounding_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        plan = super().grounding_plan(f)
        if "tools" in plan:
            plan["tools"] = []
        return plan

    def grounding_score(self, f: dict[str, Any]) -> dict[str, Any]:
        fits = "big" in f["dataset"]["name"].lower()
        return {"alignment": 5 if fits else 1, "robustness": 4, "signal_preservation": 4,
                "reason": "the big-media dataset" if fits else "not the dataset under test"}

    def orchestrator_sample_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        answer = super().orchestrator_sample_plan(f)
        if "tool_calls" in answer:
            answer["tool_calls"] = []
        return answer


def big_png(path: Path) -> bytes:
    """An incompressible RGB noise PNG of about 20 MB."""
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (2600, 2600, 3), dtype=np.uint8)).save(
        path, compress_level=1)
    return path.read_bytes()


def long_wav(path: Path) -> bytes:
    """Ten minutes of 16 kHz 16-bit mono noise."""
    rng = np.random.default_rng(8)
    samples = rng.integers(-8000, 8000, WAV_RATE * WAV_SECONDS, dtype=np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(WAV_RATE)
        out.writeframes(samples.tobytes())
    return path.read_bytes()


@pytest.fixture(scope="module")
def big_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A pool holding one dataset (`pool add`): two records over a 20 MB PNG and a 10-minute
    WAV; the media's bytes by sha256."""
    src = tmp_path_factory.mktemp("big-src")
    media = {"photo.png": big_png(src / "photo.png"), "recording.wav": long_wav(src / "recording.wav")}
    records = [{"id": f"r{i}", "question": f"What do the photo and recording number {i} show?",
                "answer": "noise", "image": "photo.png", "audio": "recording.wav"}
               for i in range(2)]
    data = src / "big_media.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    pool = tmp_path_factory.mktemp("big-pool")
    assert main(["pool", "add", str(data), "--name", "Big media", "--pool", str(pool),
                 "--license", "cc0-1.0"]) == 0
    assert len(media["photo.png"]) > 20 * MB * 0.95
    assert len(media["recording.wav"]) == 44 + 2 * WAV_RATE * WAV_SECONDS  # 19.2 MB
    return pool, {hashlib.sha256(b).hexdigest(): b for b in media.values()}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def build_big(capsys: pytest.CaptureFixture[str], pool: Path, home: Path,
              *store: str) -> dict[str, Any]:
    register_responder("big-media-brain", BigMediaBrain())
    code, out, err = run_cli(capsys, "build", "Recognise what large photos and long recordings "
                             "show", "--size", "2", "--seed", "1", "--llm",
                             "scripted:big-media-brain", "--pool", str(pool), "--home", str(home),
                             "--run-id", "big", "--json", *store)
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_20_mb_image_and_a_10_minute_wav_on_a_stock_nats_server(
        big_pool: tuple[Path, dict[str, bytes]], tmp_path: Path, capsys) -> None:
    pool, media = big_pool
    with NatsServer(tmp_path / "nats", config=None) as nats:  # no config file at all
        store = ("--store", nats.url)
        doc = build_big(capsys, pool, tmp_path / "home", *store)
        folder = Path(doc["out_dir"])
        on_disk = {p.name.split(".")[0]: p.read_bytes() for p in (folder / "media").iterdir()}
        assert on_disk == media  # the very bytes, through the Object Store
        assert benchmark_hash(folder) == doc["content_hash"]

        async def largest_event() -> tuple[int, int]:
            log = await JetStreamEventLog.connect(nats.url)
            try:
                return log.nc.max_payload, max(len(encode(e)) for e in await log.read("big"))
            finally:
                await log.close()

        max_payload, largest = asyncio.run(largest_event())
        assert max_payload == MB and largest < 64 * 1024  # events stay small facts

        code, out, err = run_cli(capsys, "replay", "big", "--out", str(tmp_path / "replayed"),
                                 *store)
        assert code == 0, err
        assert directory_hash(tmp_path / "replayed") == directory_hash(folder)
        code, out, err = run_cli(capsys, "verify", "big", "--against", str(folder), *store)
        assert code == 0, out + err
        assert "2 media blobs intact" in out and "agrees with the log" in out


def test_a_missing_or_altered_blob_is_named_and_refused(tmp_path: Path, capsys) -> None:
    from store.sqlite_log import SQLiteEventLog
    from tests.replay.synthetic_run import store_synthetic_media, synthetic_media, synthetic_run

    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run("r", samples=20), expected_seq=0)
        await log.close()
        await store_synthetic_media(tmp_path, 20)

    asyncio.run(fill())
    home = ("--home", str(tmp_path))
    code, out, _ = run_cli(capsys, "verify", "r", *home)
    assert code == 0 and "2 media blobs intact" in out
    first, second = (hashlib.sha256(synthetic_media(i)).hexdigest() for i in (0, 10))
    (tmp_path / "blobs" / first[:2] / first).unlink()
    (tmp_path / "blobs" / second[:2] / second).write_bytes(b"not the image")
    code, out, _ = run_cli(capsys, "verify", "r", *home)
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 2, out
    assert f"blob {first} missing" in lines[0] and "event seq" in lines[0]
    assert f"blob {second} altered" in lines[1]
    code, _, err = run_cli(capsys, "replay", "r", "--out", str(tmp_path / "out"), *home)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (f"blob {first} is missing" in err) != (f"blob {second} in" in err)  # the first read
    assert not (tmp_path / "out").exists()
