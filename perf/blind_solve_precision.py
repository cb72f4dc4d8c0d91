"""How many of the items the Verifier's blind solves keep would a careful reader accept?

    PYTHONPATH=. .venv/bin/python perf/blind_solve_precision.py [--llm local:qwen2.5-coder-1.5b]

The population is the demo's: the 50 Causal-Reasoning items in the everyday register, each
labelled acceptable or not by hand (tests/agents/acceptability_labels.py). Each is put as the
demo's plan puts it and solved blind twice, options as given and reversed (the Verifier's
`answer_matches`, `option_order` and `unambiguous` checks, its own prompt, greedy). The script
prints each item's two answers with the label's share of the option letters' probability,
and the share of acceptable items before the checks, among those they keep, and among those
they reject — with and without `unambiguous`: the precision the demo's items can reach on
this backbone when the slots take items in any order.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "perf"))

from autogen_core.models import SystemMessage, UserMessage  # noqa: E402

from agents.answers import chosen_letter  # noqa: E402
from agents.item_checks import check_offensive  # noqa: E402
from agents.prompts.evaluator import answer_messages  # noqa: E402
from agents.recorded_llm import CHOICE_ALTERNATIVES, first_token_alternatives  # noqa: E402
from agents.settings import RunSettings  # noqa: E402
from agents.verifier import (  # noqa: E402
    BlindAnswer,
    label_share,
    reversed_options,
    unambiguous_verdict,
)
from store.events import BenchmarkItem  # noqa: E402
from tests.agents.acceptability_labels import ACCEPTABLE  # noqa: E402
from tests.agents.register_labels import CAUSAL_REASONING  # noqa: E402
from tools.llm.clients import make_client  # noqa: E402
from tools.pool import Pool  # noqa: E402

POOL = REPO.parent / "shared/datasets/general-bench-subset/data"
INSTRUCTION = "Answer the question by choosing the more plausible option."  # the demo plan's


async def solve(client: object, item: BenchmarkItem) -> BlindAnswer:
    """The Verifier's blind solve of `item` (as `VerifierAgent._solve` asks it)."""
    system, user = answer_messages(item.input, item.choices, item.media)
    result = await client.create(  # type: ignore[attr-defined]
        [SystemMessage(content=system["content"]),
         UserMessage(content=user["content"], source="user")],
        extra_create_args={"temperature": 0, "logprobs": True,
                           "top_logprobs": CHOICE_ALTERNATIVES})
    said = str(result.content).strip()
    return BlindAnswer(said, chosen_letter(said, item.choices or []) == item.target,
                       label_share(item, first_token_alternatives(result)))


def share(rows: list[bool]) -> str:
    return f"{sum(rows)}/{len(rows)} ({sum(rows) / len(rows):.0%})" if rows else "0/0"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default="local:qwen2.5-coder-1.5b")
    args = ap.parse_args()
    client = make_client(args.llm)
    margin = RunSettings().solve_margin
    clear: list[bool] = []
    unclear: list[bool] = []
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
        offensive = not check_offensive(item).passed  # the Verifier's own free check
        keep = given.reaches and again.reaches and not offensive
        (kept if keep else dropped).append(acceptable)
        sure = keep and unambiguous_verdict(item, [given, again], margin).passed
        (clear if sure else unclear).append(acceptable)
        print(f"{item_id} {'ok ' if acceptable else 'BAD'} given {given.text[:3]!r:6} "
              f"{given.label_share or 0:.2f} reversed {again.text[:3]!r:6} "
              f"{again.label_share or 0:.2f} {'kept' if sure else 'rejected'}"
              f"{' (only without unambiguous)' if keep and not sure else ''}"
              f"{'  (offensive)' if offensive else ''}{'  — ' + why if why else ''}", flush=True)
    print(f"acceptable, all {len(ACCEPTABLE)}: {share(kept + dropped)}")
    print(f"without unambiguous: kept {share(kept)}; rejected {share(dropped)}")
    print(f"with unambiguous (margin {margin}): kept {share(clear)}; rejected {share(unclear)}")


if __name__ == "__main__":
    asyncio.run(main())
