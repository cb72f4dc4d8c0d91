"""How many of the items the Verifier's blind solves keep would a careful reader accept?

    PYTHONPATH=. .venv/bin/python perf/blind_solve_precision.py [--llm local:qwen2.5-coder-1.5b]

The population is the demo's: the 50 Causal-Reasoning items in the everyday register, each
labelled acceptable or not by hand (tests/agents/acceptability_labels.py). Each is put as the
demo's plan puts it and solved blind twice, options as given and reversed (the Verifier's
`answer_matches` and `option_order` checks, its own prompt, greedy). The script prints each
item's two answers and the share of acceptable items before the checks, among those they
keep, and among those they reject: the precision the demo's items can reach on this backbone
when the slots take items in any order.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "perf"))

from option_order import solve  # noqa: E402

from agents.answers import chosen_letter  # noqa: E402
from agents.item_checks import check_offensive  # noqa: E402
from agents.verifier import reversed_options  # noqa: E402
from store.events import BenchmarkItem  # noqa: E402
from tests.agents.acceptability_labels import ACCEPTABLE  # noqa: E402
from tests.agents.register_labels import CAUSAL_REASONING  # noqa: E402
from tools.llm.clients import make_client  # noqa: E402
from tools.pool import Pool  # noqa: E402

POOL = REPO.parent / "shared/datasets/general-bench-subset/data"
INSTRUCTION = "Answer the question by choosing the more plausible option."  # the demo plan's


def share(rows: list[bool]) -> str:
    return f"{sum(rows)}/{len(rows)} ({sum(rows) / len(rows):.0%})" if rows else "0/0"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default="local:qwen2.5-coder-1.5b")
    args = ap.parse_args()
    client = make_client(args.llm)
    items = {i.id: i for i in Pool.load([POOL], include_generators=False).items(CAUSAL_REASONING)}
    kept: list[bool] = []
    dropped: list[bool] = []
    for item_id, acceptable, why in ACCEPTABLE:
        source = items[item_id]
        options = [str(o) for o in source.fields["options"]]
        item = BenchmarkItem(id=item_id, subtask="causal", choices=options,
                             input=f"{INSTRUCTION}\n\nQuestion: {source.fields['question']}",
                             target=str(source.fields["answer"]).strip().upper())
        flipped = reversed_options(item)
        assert flipped is not None
        given, again = await solve(client, item), await solve(client, flipped)
        hits = (chosen_letter(given, options) == item.target,
                chosen_letter(again, flipped.choices or []) == flipped.target)
        offensive = not check_offensive(item).passed  # the Verifier's own free check
        keep = all(hits) and not offensive
        (kept if keep else dropped).append(acceptable)
        print(f"{item_id} {'ok ' if acceptable else 'BAD'} given {given[:3]!r:6} reversed "
              f"{again[:3]!r:6} {'kept' if keep else 'rejected'}"
              f"{'  (offensive)' if offensive else ''}{'  — ' + why if why else ''}", flush=True)
    print(f"acceptable, all {len(ACCEPTABLE)}: {share(kept + dropped)}; kept by the checks: "
          f"{share(kept)}; rejected: {share(dropped)}")


if __name__ == "__main__":
    asyncio.run(main())
