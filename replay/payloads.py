"""An event's payload as plain JSON for auditors (`benchagent log --json`).

Every field of the decision is kept. Media bytes are not in events at all
(`MediaStored` names a blob by sha256 and size); should a payload ever hold
bytes, they are shown as what identifies them, `{"sha256": ..., "size": ...}`,
never as a megabyte of base64.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from store.events import Envelope


def payload_json(env: Envelope) -> dict[str, Any]:
    """The payload's fields (with its `type` tag), media bytes as hash and size."""
    raw = msgspec.to_builtins(env.payload, builtin_types=(bytes, bytearray, memoryview))
    described = _describe_bytes(raw)
    assert isinstance(described, dict)
    return described


def _describe_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    if isinstance(value, dict):
        return {k: _describe_bytes(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_describe_bytes(v) for v in value]
    return value
