"""Does the grounding's relevance check (agents/relevance.py) agree with a careful reader?

    .venv/bin/python perf/relevance.py

For each labelled subtask of tests/agents/relevance_labels.py and each text dataset of the
General-Bench subset: the share of its sampled questions the cue check calls on-target,
whether grounding keeps it, and the hand label; then the agreement per dataset and, for the
datasets whose questions are mixed, per question. Then the built-in generators beside them,
for the same subtasks and the ones generators are made for: the share of their rendered items
on-target, whether their card is, grounding's verdict (both) and the hand label, with the
agreement of each measure alone. Free: no model is called.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.relevance import (  # noqa: E402
    capability_cues,
    card_asks,
    generator_questions,
    on_target,
    own_stems,
    relevance,
    sampled_questions,
)
from tests.agents.relevance_labels import (  # noqa: E402
    CAUSAL,
    DATASET_LABELS,
    GENERATOR_LABELS,
    QUESTION_LABELS,
    TEXT_DATASETS,
)
from tools.pool import Pool  # noqa: E402

POOL = REPO.parent / "shared/datasets/general-bench-subset/data"


def main() -> int:
    pool = Pool.load([POOL], include_generators=False)
    agree = total = 0
    started = time.perf_counter()
    for sub, relevant in DATASET_LABELS:
        print(f"\n{sub.name!r} (cues: {', '.join(sorted(capability_cues(sub)))})")
        for dataset_id, name in sorted(TEXT_DATASETS.items(), key=lambda t: t[1]):
            r = relevance(sub, pool.card(dataset_id), pool)
            assert r is not None
            label = dataset_id in relevant
            agree += r.kept == label
            total += 1
            mark = "" if r.kept == label else "  <- disagrees"
            print(f"  {name:<34} on-target {r.on_target:4.2f} of {r.sampled:>2}  "
                  f"{'kept    ' if r.kept else 'filtered'}  label {'yes' if label else 'no '}"
                  f"{mark}")
    q_agree = q_total = 0
    cues = capability_cues(CAUSAL)
    for dataset_id, labels in QUESTION_LABELS.items():
        questions = sampled_questions(pool, pool.card(dataset_id))
        for question, label in zip(questions, labels, strict=True):
            q_agree += on_target(question, cues) == label
            q_total += 1
    seconds = time.perf_counter() - started
    print(f"\ndataset level: {agree}/{total} agree ({agree / total:.0%})")
    print(f"question level ({CAUSAL.name!r}, {', '.join(TEXT_DATASETS[d] for d in QUESTION_LABELS)}):"
          f" {q_agree}/{q_total} agree ({q_agree / q_total:.0%})")
    print(f"{seconds:.2f} s for {total} checks, no model call")
    generators(pool)
    return 0


def generators(pool: Pool) -> None:
    """The built-in generators' verdicts: rendered items, card, both (grounding's)."""
    with_generators = Pool.load([], include_generators=True)
    cards = {c.generator: c for c in with_generators.datasets if c.generator}
    started = time.perf_counter()
    for card in cards.values():
        generator_questions(card)  # rendered once per process; timed apart from the checks
    render_seconds = time.perf_counter() - started
    agree = {"items": 0, "card": 0, "both": 0}
    total = 0
    for sub, relevant in [(s, set()) for s, _ in DATASET_LABELS] + GENERATOR_LABELS[4:]:
        labelled = dict(GENERATOR_LABELS).get(sub, relevant)
        cues = capability_cues(sub)
        print(f"\n{sub.name!r} — generators (cues: {', '.join(sorted(cues))}; items also: "
              f"{', '.join(sorted(own_stems(sub) - cues)) or '-'})")
        for name, card in cards.items():
            questions = generator_questions(card)
            items = sum(on_target(q, cues | own_stems(sub)) for q in questions) / len(questions)
            by_card = on_target(card_asks(card), cues)
            r = relevance(sub, card, with_generators)
            assert r is not None
            label = name in labelled
            agree["items"] += (items >= 0.5) == label
            agree["card"] += by_card == label
            agree["both"] += r.kept == label
            total += 1
            mark = "" if r.kept == label else "  <- disagrees"
            print(f"  {name:<34} items {items:4.2f} of {len(questions):>2}  card "
                  f"{'yes' if by_card else 'no '}  {'kept    ' if r.kept else 'filtered'}  "
                  f"label {'yes' if label else 'no '}{mark}")
    print(f"\ngenerator level: {agree['both']}/{total} agree ({agree['both'] / total:.0%}) "
          f"[rendered items alone {agree['items']}/{total}, card alone {agree['card']}/{total}]")
    print(f"{render_seconds:.2f} s to render {sum(len(generator_questions(c)) for c in cards.values())}"
          f" generator items once per process")


if __name__ == "__main__":
    sys.exit(main())
