"""The Orchestrator: sample slots → realized benchmark items (paper §3.2, realization).

- SpecFinalized → one `SlotAssigned` per sample slot of every quota, each with a
  seeded, unused source item (`slots.py`);
- SlotAssigned → the item realized: a generator instance (`generated.py`), or a
  source item through sample-level planning (the LLM specialises the dataset plan
  to the item: its question, distractors, tool calls; `sourced.py`) with its pure
  tools run (`tool_runs.py`); media bytes are stored (`MediaStored`) and the item
  is emitted as `SampleRealized` with its `ItemSource`;
- ReplenishRequested → the slot's next attempt (`SlotAssigned`, attempt + 1), or
  `QuotaShortfall` when the slot's share of the source is used up (`slots.py`);
- RepairRequested → the question rewritten once by the LLM (`SampleRealized`
  with `repair_of`; `repair.py`); the target is never touched.

`agent.py` holds the agent itself: one handler per event class, each a few lines.

Ablation `sample-planning`: the dataset plan is applied unchanged (no LLM call).
"""

from agents.orchestrator.agent import OrchestratorAgent
from agents.orchestrator.slots import SourceExhausted, source_for

__all__ = ["OrchestratorAgent", "SourceExhausted", "source_for"]
