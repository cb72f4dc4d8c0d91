"""What travels on the in-process bus, and where: the AutoGen message type and topics.

- AutoGen cannot register a msgspec `Struct` as a message type, and its runtime
  JSON-serializes every published message for its event logger (bytes fail
  there and the message is silently dropped). So an event travels in-process
  as `EventMessage`, a dataclass holding the envelope's canonical JSON *text*.
- AutoGen topic = (EventType, run_id): `TopicId(type=EventType, source=run_id)`;
  agents subscribe by type for any run.
- NATS subject = `bench.<run_id>.<EventType>`; a role filters on `bench.*.<EventType>`
  (`store.subjects`: the log stores on the same names).

EventType is always `store.events.type_name` of the payload class.
"""

from __future__ import annotations

from dataclasses import dataclass

from autogen_core import TopicId

from store.events import Envelope, Event, Payload, decode, encode, type_name


@dataclass(frozen=True)
class EventMessage:
    """One envelope as canonical JSON text (see module docstring for why not bytes)."""

    data: str

    @classmethod
    def of(cls, env: Envelope[Payload]) -> EventMessage:
        return cls(encode(env).decode())

    def envelope(self) -> Envelope[Event]:
        return decode(self.data.encode())


def topic_type(event_type: type[Payload]) -> str:
    """The AutoGen topic type of an event class (a role subscribes to it for every run)."""
    return type_name(event_type)


def topic_of(env: Envelope[Payload]) -> TopicId:
    """The AutoGen topic an event is published on."""
    return TopicId(type=topic_type(type(env.payload)), source=env.run_id)
