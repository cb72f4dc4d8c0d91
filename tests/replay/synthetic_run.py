"""A synthetic but complete run log, for replay/audit tests and the replay perf script.

Every tenth sample has an image: its bytes (`synthetic_media`) go to the home's blob store
(`store_synthetic_media`), its `MediaStored` into the log."""

from __future__ import annotations

import hashlib
from pathlib import Path

from replay.benchmark_files import project_benchmark
from store import events as ev
from store.blobs import FolderBlobStore
from store.events import Envelope, new_event


def synthetic_media(i: int) -> bytes:
    """The image bytes of sample `i` (every tenth sample has one)."""
    return f"image-{i}".encode() * 20


async def store_synthetic_media(home: Path, samples: int) -> None:
    """Put the media of a synthetic run of `samples` samples into `home`'s blob store."""
    blobs = FolderBlobStore.beside(Path(home) / "events.db")
    for i in range(0, samples, 10):
        await blobs.put(synthetic_media(i))


def synthetic_run(run_id: str, samples: int, reject_every: int = 5, with_media: bool = True) -> list[Envelope]:
    """Unsequenced events of a run where every `reject_every`-th sample is rejected."""
    out: list[Envelope] = []

    def emit(agent: str, payload: ev.Payload, cause: Envelope | None, key: str = "") -> Envelope:
        env = new_event(run_id, agent, payload, cause.event_id if cause else None, key)
        out.append(env)
        return env

    req = emit("cli", ev.RunRequested(requirement="Can a model find causes?", size=samples, seed=7), None)
    sub = ev.Subtask(name="cause", description="find the cause", capability="causal", answer_format="multiple_choice")
    design = emit("design", ev.DesignAccepted(subtasks=[sub]), req)
    plan = ev.TransformationPlan(plan_id="p1", subtask="cause", dataset_id="d1", instructions="ask for the cause")
    proposed = emit("grounding", ev.PlanProposed(plan=plan), design)
    emit("grounding", ev.PlanScored(plan_id="p1", subtask="cause", dataset_id="d1", alignment=0.9,
                                     robustness=0.8, signal_preservation=0.9, accepted=True, reason="fits"), proposed)
    quota = ev.Quota(subtask="cause", dataset_id="d1", plan_id="p1", count=samples)
    spec = emit("allocation", ev.SpecFinalized(subtasks=[sub], plans=[plan], quotas=[quota]), proposed)
    accepted: list[str] = []
    rejected = 0
    for i in range(samples):
        sid = f"cause-d1-{i:05d}-a1"
        slot = emit("orchestrator", ev.SlotAssigned(sample_id=sid, slot=i, subtask="cause", dataset_id="d1",
                                                     plan_id="p1", source_item_id=str(i)), spec, sid)
        media = []
        if with_media and i % 10 == 0:
            data = synthetic_media(i)
            digest = hashlib.sha256(data).hexdigest()
            name = f"media/{digest}.png"
            emit("orchestrator", ev.MediaStored(sha256=digest, name=name, size=len(data)), slot, sid)
            media.append(name)
        item = ev.BenchmarkItem(id=sid, subtask="cause", input=f"Why did event {i} happen?",
                                choices=["A", "B", "C", "D"], target="B", media=media,
                                metadata={"source_dataset": "d1", "source_item": str(i), "plan_id": "p1"})
        real = emit("orchestrator", ev.SampleRealized(sample_id=sid, item=item, source=ev.SourceLabel(
            dataset_id="d1", item_id=str(i), field_path="output.answer")), slot, sid)
        bad = reject_every and i % reject_every == reject_every - 1
        verdict = ev.CheckVerdict(check="answerable", passed=not bad, reason="context lacks the cause" if bad else "ok")
        emit("verifier", ev.SampleChecked(sample_id=sid, verdicts=[verdict]), real, sid)
        if bad:
            rejected += 1
            emit("verifier", ev.SampleRejected(sample_id=sid, subtask="cause", check="answerable",
                                               reason="context lacks the cause"), real, sid)
        else:
            accepted.append(sid)
            emit("verifier", ev.SampleAccepted(sample_id=sid, subtask="cause"), real, sid)
    content = project_benchmark(out, accepted)
    emit("verifier", ev.BenchmarkPublished(sample_ids=accepted, accepted=len(accepted), rejected=rejected,
                                           content_hash=content.content_hash()), spec)
    return out
