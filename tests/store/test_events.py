"""The events: an envelope's type is its payload's, vocabularies are closed, an item's source
is one union; and what a stored envelope that breaks these rules does to the log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
import pytest

from store import events as ev
from store.events import Envelope, decode, encode, new_event, target_from, type_name
from store.log import CorruptEvent
from store.sqlite_log import SQLiteEventLog


def test_the_type_name_is_the_payload_tag_and_the_envelope_type() -> None:
    assert type_name(ev.SampleRealized) == "SampleRealized"
    assert all(type_name(cls) == name for name, cls in ev.EVENT_TYPES.items())
    env = new_event("r", "verifier", ev.SampleAccepted(sample_id="s", subtask="t"))
    assert env.type == "SampleAccepted"
    assert Envelope(event_id="x", run_id="r", agent="a", causation_id=None,
                    payload=ev.ModelReleased(model="m")).type == "ModelReleased"


def test_an_envelope_whose_type_disagrees_with_its_payload_is_refused() -> None:
    env = new_event("r", "verifier", ev.SampleAccepted(sample_id="s", subtask="t"))
    with pytest.raises(ValueError, match="'SampleRejected' is not its payload's type"):
        msgspec.structs.replace(env, type="SampleRejected")
    forged = encode(env).replace(b'"type":"SampleAccepted","agent"',
                                 b'"type":"SampleRejected","agent"')
    assert forged != encode(env)
    with pytest.raises(msgspec.ValidationError, match="is not its payload's type"):
        decode(forged)
    assert decode(encode(env)) == env


def test_closed_vocabularies_are_refused_when_decoded() -> None:
    env = new_event("r", "verifier", ev.SampleRejected(sample_id="s", subtask="t",
                                                      check="format", reason="x"))
    assert decode(encode(env)).payload.check == "format"
    bad = encode(msgspec.structs.replace(env, payload=ev.SampleRejected(
        sample_id="s", subtask="t", check="vibes", reason="x")))  # type: ignore[arg-type]
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'vibes'"):
        decode(bad)
    failed = encode(new_event("r", "bus", ev.RunFailed(stage="nobody", reason="x")))  # type: ignore[arg-type]
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'nobody'"):
        decode(failed)


def test_an_items_source_is_a_label_or_a_generator() -> None:
    item = ev.BenchmarkItem(id="s", subtask="t", input="question?", target="A")
    label = ev.SampleRealized(sample_id="s", item=item, source=ev.SourceLabel(
        dataset_id="d", item_id="7", field_path="output.answer"))
    made = ev.SampleRealized(sample_id="s", item=item, source=ev.GeneratedBy(
        name="proofs", version="3", seed=11, params={"steps": 4}))
    assert label.generated_by is None and made.generated_by == made.source
    assert target_from(label.source) == "source_label:output.answer"
    assert target_from(made.source) == "generator:proofs"
    for payload in (label, made):  # the tag says which: decoding gives the same union member
        assert decode(encode(new_event("r", "orchestrator", payload))).payload == payload


async def test_a_stored_envelope_with_a_forged_type_is_a_corrupt_event(tmp_path: Path) -> None:
    log = SQLiteEventLog(tmp_path / "events.db")
    try:
        await log.append([new_event("r", "orchestrator", ev.ModelReleased(model="m"))])
        with sqlite3.connect(tmp_path / "events.db") as conn:  # behind the log's back
            (data,) = conn.execute("SELECT data FROM events").fetchone()
            forged = bytes(data).replace(b'"type":"ModelReleased","agent"',
                                         b'"type":"ModelAnswered","agent"')
            assert forged != bytes(data)
            conn.execute("UPDATE events SET data = ?", (forged,))
        with pytest.raises(CorruptEvent, match="seq 1"):
            await log.read("r")
    finally:
        await log.close()
