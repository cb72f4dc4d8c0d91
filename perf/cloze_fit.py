"""Does fitting a cloze item's options into its blank pick the label, where the letter solve
did not?

    PYTHONPATH=. .venv/bin/python perf/cloze_fit.py HOME [HOME ...] [--llm local:qwen2.5-coder-1.5b]

Reads every cloze item with options that the runs under each HOME realized and verified
(`events.db`), skips repeats (same text before the blank, same options), fits each one
(`agents.cloze_fit`: each option with the rest of its sentence, scored right after the text
before the blank, by the local model's `continuations` request) and prints, per item, whether
the likeliest option is the label, the label's share, and what the Verifier decided when the
run was built; then the counts. On the two temporal builds of stop 23 (before the Verifier
fitted): 47 items, the letter solve had kept 7, the fit picks the label on 46.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402
from autogen_core.models import UserMessage  # noqa: E402

from agents.cloze_fit import fill_texts, fit_of  # noqa: E402
from store.events import BenchmarkItem  # noqa: E402
from tools.llm.clients import CONTINUATIONS_KEY, make_client  # noqa: E402


def cloze_items(home: Path) -> list[tuple[BenchmarkItem, str]]:
    """(item, the Verifier's decision) for each verified cloze item with options."""
    db = sqlite3.connect(f"file:{home / 'events.db'}?mode=ro", uri=True)
    fate: dict[str, str] = {}
    for (data,) in db.execute("SELECT data FROM events WHERE type IN "
                              "('SampleAccepted', 'SampleRejected')"):
        event = msgspec.json.decode(data)
        payload = event["payload"]
        fate[payload["sample_id"]] = payload.get("check") or "accepted"
    out = []
    for (data,) in db.execute("SELECT data FROM events WHERE type = 'SampleRealized'"):
        payload = msgspec.json.decode(data)["payload"]
        item = msgspec.convert(payload["item"], BenchmarkItem)
        if payload["sample_id"] in fate and fill_texts(item) is not None:
            out.append((item, fate[payload["sample_id"]]))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("homes", nargs="+", type=Path)
    parser.add_argument("--llm", default="local:qwen2.5-coder-1.5b")
    args = parser.parse_args()
    client = make_client(args.llm)
    seen, hits, kept = set(), 0, 0
    for home in args.homes:
        for item, decided in cloze_items(home):
            texts = fill_texts(item)
            assert texts is not None
            key = (texts[0][-200:], tuple(item.choices or []))
            if key in seen:
                continue
            seen.add(key)
            result = await client.create([UserMessage(content=texts[0], source="perf")],
                                         extra_create_args={CONTINUATIONS_KEY: texts[1]})
            fit = fit_of(item, msgspec.json.decode(str(result.content), type=list[float]))
            hit = fit.best == fit.label
            hits += hit
            kept += decided == "accepted"
            print(f"{'label' if hit else 'MISS '} share {fit.share:.2f}  built: {decided:15}"
                  f" …{texts[0][-60:]!r} [{(item.choices or [])[fit.label]}]", flush=True)
    print(f"{len(seen)} cloze items: the fit picks the label on {hits}; "
          f"the build's Verifier had accepted {kept}")


if __name__ == "__main__":
    asyncio.run(main())
