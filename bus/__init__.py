"""Moving events between agents: in-process (AutoGen) and over NATS JetStream.

- `bus.base`: the `Bus` contract both buses keep (read it first).
- `bus.inprocess.InProcessBus`, `bus.nats_bus.NatsBus`: the two buses.
- `bus.wiring`: what both share: roles by event class, contexts, what resume re-delivers.
- `bus.context.BusContext`: the `AgentContext` agents act through.
- `bus.dispatch`: running one agent on one event (a failure becomes `RunFailed`).
- `bus.messages`: the AutoGen message type and topics (NATS subjects: `store.subjects`).
"""
