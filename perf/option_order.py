"""Does the blind solve follow the label when a benchmark's options are reversed?

    PYTHONPATH=. .venv/bin/python perf/option_order.py BENCHMARK.jsonl
        [--llm local:qwen2.5-coder-1.5b] [--bad 2,4,7]

For every multiple-choice item of a published benchmark file: the backbone's blind answer
(the Verifier's own solve prompt, greedy) with the options as given and reversed, and
whether each reaches the label. `--bad` names the items (1-based lines) a careful reader
rejected: the script then prints how many of those, and of the others, the check
(`option_order` in agents/verifier.py) would reject.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.answers import chosen_letter  # noqa: E402
from agents.prompts.evaluator import answer_messages  # noqa: E402
from agents.verifier import reversed_options  # noqa: E402
from store.events import BenchmarkItem  # noqa: E402
from tools.llm.clients import make_client  # noqa: E402


async def solve(client: object, item: BenchmarkItem) -> str:
    from autogen_core.models import SystemMessage, UserMessage

    system, user = answer_messages(item.input, item.choices, item.media)
    result = await client.create(  # type: ignore[attr-defined]
        [SystemMessage(content=system["content"]), UserMessage(content=user["content"],
                                                               source="user")],
        extra_create_args={"max_tokens": 16, "temperature": 0})
    return str(result.content).strip()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmark", type=Path)
    ap.add_argument("--llm", default="local:qwen2.5-coder-1.5b")
    ap.add_argument("--bad", default="", help="1-based lines a careful reader rejected")
    args = ap.parse_args()
    bad = {int(n) for n in args.bad.split(",") if n.strip()}
    client = make_client(args.llm)
    flagged: list[int] = []
    lines = args.benchmark.read_text().splitlines()
    for n, line in enumerate(lines, 1):
        doc = json.loads(line)
        item = BenchmarkItem(id=doc["id"], subtask=doc["subtask"], input=doc["input"],
                             choices=doc.get("choices"), target=doc["target"],
                             media=doc.get("media") or [])
        flipped = reversed_options(item)
        if flipped is None:
            continue
        given, reversed_ = await solve(client, item), await solve(client, flipped)
        hits = (chosen_letter(given, item.choices or []) == item.target,
                chosen_letter(reversed_, flipped.choices or []) == flipped.target)
        if hits[0] and not hits[1]:
            flagged.append(n)
        print(f"{n:3d} label {item.target} given {given[:12]!r} ({'hit' if hits[0] else 'miss'})"
              f"  reversed label {flipped.target} {reversed_[:12]!r} "
              f"({'hit' if hits[1] else 'miss'})" + ("  [read: bad]" if n in bad else ""),
              flush=True)
    print(f"rejected by option_order: {len(flagged)} of {len(lines)} items {flagged}")
    if bad:
        print(f"of the {len(bad)} a reader rejected: {len(bad & set(flagged))}; "
              f"of the {len(lines) - len(bad)} kept: {len(set(flagged) - bad)}")


if __name__ == "__main__":
    asyncio.run(main())
