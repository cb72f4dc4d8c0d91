"""Does the everyday-register check (agents/register.py) agree with a careful reader?

    .venv/bin/python perf/everyday_register.py

For the 40 hand-labelled items of General-Bench's Causal-Reasoning
(tests/agents/register_labels.py): each item's rarest content words (question and options,
as the item check reads them), the check's verdict and the label; the agreement and its
confusion at the chosen threshold; the agreement over a sweep of thresholds (how it was
chosen), for the question and options and for the question alone; and the share of each
text dataset's sampled items in the register, by what they ask and by all they present in
text (what grounding reads). Free: no model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.register import EVERYDAY_ZIPF, REGISTER_SHARE, off_register, rare_words  # noqa: E402
from agents.relevance import sampled_presented, spread_items  # noqa: E402
from tests.agents.register_labels import CAUSAL_REASONING, EVERYDAY_LABELS  # noqa: E402
from tests.agents.relevance_labels import TEXT_DATASETS  # noqa: E402
from tools.pool import Pool, SourceItem  # noqa: E402

POOL = REPO.parent / "shared/datasets/general-bench-subset/data"


def item_text(item: SourceItem) -> str:
    options = item.fields.get("options") or []
    return " ".join([str(item.fields.get("question", "")), *map(str, options)])


def agreement(texts: list[tuple[str, bool]], threshold: float) -> tuple[int, int, int]:
    """(agreeing, everyday items called off-register, other items called everyday)."""
    agree = false_off = false_on = 0
    for text, everyday in texts:
        called = not off_register(text, threshold)
        agree += called == everyday
        false_off += everyday and not called
        false_on += called and not everyday
    return agree, false_off, false_on


def main() -> int:
    pool = Pool.load([POOL], include_generators=False)
    items = [(pool.item(CAUSAL_REASONING, item_id), label) for item_id, label in EVERYDAY_LABELS]
    started = time.perf_counter()
    print(f"item (question and options)   check at Zipf < {EVERYDAY_ZIPF:g}   label")
    for item, label in items:
        text = item_text(item)
        called = not off_register(text)
        rare = ", ".join(f"{w} {z:.1f}" for w, z in rare_words(text)[:3]) or "-"
        mark = "" if called == label else "  <- disagrees"
        print(f"  {item.id}  {'everyday' if called else 'off     '}  "
              f"{'everyday' if label else 'off     '}  rare: {rare}{mark}")
    full = [(item_text(it), label) for it, label in items]
    question = [(str(it.fields.get("question", "")), label) for it, label in items]
    n = len(items)
    agree, false_off, false_on = agreement(full, EVERYDAY_ZIPF)
    print(f"\nagreement at {EVERYDAY_ZIPF:g}: {agree}/{n} ({agree / n:.0%}); everyday items called "
          f"off: {false_off} of {sum(label for _, label in items)}; other items called "
          f"everyday: {false_on} of {sum(not label for _, label in items)}")
    print(f"(calling every item off-register agrees on "
          f"{sum(not label for _, label in items)}/{n})")
    print("\nthreshold sweep   question+options   question alone")
    for tenths in range(26, 41):
        t = tenths / 10
        print(f"  Zipf < {t:3.1f}      {agreement(full, t)[0]:>2}/{n}              "
              f"{agreement(question, t)[0]:>2}/{n}")
    print("\nshare of sampled items in the everyday register, per text dataset: reading what "
          "they ask (question and options), and all they present (every text field: what "
          f"grounding reads; it keeps a dataset for an everyday subtask at {REGISTER_SHARE:g} "
          "or more)")
    for dataset_id, name in sorted(TEXT_DATASETS.items(), key=lambda t: t[1]):
        card = pool.card(dataset_id)
        presented = sampled_presented(pool, card)
        share = sum(not off_register(t) for t in presented) / len(presented)
        asks = "  -  "
        if "question" in card.meta.fields:
            asked = [item_text(item)
                     for item in spread_items(pool, dataset_id, len(presented))]
            asks = f"{sum(not off_register(a) for a in asked) / len(asked):4.2f} "
        print(f"  {name:<34} asks {asks} presents {share:4.2f} of {len(presented):>2}")
    print(f"\n{time.perf_counter() - started:.2f} s, no model call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
