"""Does the grounding's relevance check (agents/relevance.py) agree with a careful reader?

    .venv/bin/python perf/relevance.py

For each labelled subtask of tests/agents/relevance_labels.py and each text dataset of the
General-Bench subset: the share of its sampled questions the cue check calls on-target,
whether grounding keeps it, and the hand label; then the agreement per dataset and, for the
datasets whose questions are mixed, per question. Free: no model is called.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.relevance import capability_cues, on_target, relevance, sampled_questions  # noqa: E402
from tests.agents.relevance_labels import (  # noqa: E402
    CAUSAL,
    DATASET_LABELS,
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
