"""Moving events between agents: in-process (AutoGen) and over NATS JetStream.

- `bus.base`: the `Bus` contract both buses keep (read it first).
- `bus.inprocess.InProcessBus`, `bus.nats_bus.NatsBus`: the two buses.
- `bus.context.BusContext`: the `AgentContext` agents act through.
- `bus.messages`: the AutoGen message type, topics and NATS subjects.
"""
