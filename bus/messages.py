"""What travels on the bus, and where: the AutoGen message type, topics and NATS subjects.

- AutoGen cannot register a msgspec `Struct` as a message type, and its runtime
  JSON-serializes every published message for its event logger (bytes fail
  there and the message is silently dropped). So an event travels in-process
  as `EventMessage`, a dataclass holding the envelope's canonical JSON *text*.
- AutoGen topic = (EventType, run_id): `TopicId(type=EventType, source=run_id)`;
  agents subscribe by type for any run.
- NATS subject = `bench.<run_id>.<EventType>`; a role filters on `bench.*.<EventType>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from autogen_core import TopicId

from store.events import Envelope, decode, encode

SUBJECT_PREFIX = "bench"  # the JetStream log (store/jetstream_log.py) stores on the same names


@dataclass(frozen=True)
class EventMessage:
    """One envelope as canonical JSON text (see module docstring for why not bytes)."""

    data: str

    @classmethod
    def of(cls, env: Envelope) -> EventMessage:
        return cls(encode(env).decode())

    def envelope(self) -> Envelope:
        return decode(self.data.encode())


def topic_of(env: Envelope) -> TopicId:
    """The AutoGen topic an event is published on."""
    return TopicId(type=env.type, source=env.run_id)


def subject_of(run_id: str, event_type: str) -> str:
    """The NATS subject an event is stored and delivered on."""
    return f"{SUBJECT_PREFIX}.{run_id}.{event_type}"


def type_filter(event_type: str) -> str:
    """The NATS filter matching one event type in every run."""
    return f"{SUBJECT_PREFIX}.*.{event_type}"
