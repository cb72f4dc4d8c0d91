"""Canonical JSON: the one deterministic encoding of plain values for hashing and recording.

Keys are sorted at every level (msgspec `order="sorted"`), so equal values give equal
bytes whatever the order they were built in. It hashes LLM requests (their request
keys, agents/recorded_llm.py) and records tool output values (`ToolApplied.outputs`).
Envelopes are not encoded here: `store.events.encode` keeps their fields in declaration
order, which their hash chain depends on.
"""

from __future__ import annotations

from typing import Any

import msgspec


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes of a msgspec-encodable value (sorted keys)."""
    return msgspec.json.encode(value, order="sorted")
