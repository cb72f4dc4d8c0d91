"""A forger's tools for tests: edit a run's events in a real SQLite file and re-chain every
later hash, so `benchagent verify` alone finds nothing wrong (only an anchor can)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from store.events import GENESIS_HASH, Envelope, decode
from store.sealing import seal


def rewrite_run(db: Path, run_id: str, edit: Callable[[Envelope], Envelope | None]) -> int:
    """Apply `edit` to every event (None keeps it), then re-seal the whole chain in place
    (heads too). Returns how many events `edit` changed."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        rows = conn.execute("SELECT seq, data FROM events WHERE run_id = ? ORDER BY seq",
                            (run_id,)).fetchall()
        prev, changed = GENESIS_HASH, 0
        conn.execute("BEGIN")
        for seq, data in rows:
            env = decode(bytes(data))
            edited = edit(env)
            if edited is not None:
                env, changed = edited, changed + 1
            sealed, new = seal(env, seq, env.time, prev)
            conn.execute("UPDATE events SET data = ? WHERE run_id = ? AND seq = ?",
                         (new, run_id, seq))
            prev = sealed.hash
        conn.execute("UPDATE heads SET last_hash = ? WHERE run_id = ?", (prev, run_id))
        conn.execute("COMMIT")
        return changed
    finally:
        conn.close()
