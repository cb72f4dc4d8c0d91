"""How well does the measured near-duplicate test tell duplicate subtasks from distinct ones?

    .venv/bin/python perf/subtask_duplicates.py

Reads the hand-labelled pairs of tests/agents/subtask_pairs.py and prints each pair's
character n-gram cosine (agents/subtask_overlap.py), the accuracy at the threshold in use,
the best threshold on the set, and a leave-one-out accuracy (the threshold picked on the
other pairs, judged on the one left out), which is the honest figure for a set this small.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.subtask_overlap import DUPLICATE_THRESHOLD, subtask_similarity  # noqa: E402
from tests.agents.subtask_pairs import PAIRS  # noqa: E402

GRID = [i / 100 for i in range(5, 95)]


def accuracy(scored: list[tuple[float, bool]], threshold: float) -> float:
    return sum((s >= threshold) == dup for s, dup in scored) / len(scored)


def best_threshold(scored: list[tuple[float, bool]]) -> float:
    # Among the best thresholds, the middle one: the widest margin on both sides.
    top = max(accuracy(scored, t) for t in GRID)
    best = [t for t in GRID if accuracy(scored, t) == top]
    return best[len(best) // 2]


def main() -> int:
    scored = [(subtask_similarity(a, b), dup) for a, b, dup in PAIRS]
    for (a, b, dup), (s, _) in zip(PAIRS, scored, strict=True):
        verdict = "dup " if s >= DUPLICATE_THRESHOLD else "dist"
        print(f"{s:5.2f} {verdict} {'duplicate' if dup else 'distinct ':<9}  "
              f"{a.name!r} / {b.name!r}")
    dups = sum(d for _, d in scored)
    print(f"\n{len(scored)} pairs ({dups} duplicate, {len(scored) - dups} distinct)")
    print(f"accuracy at the threshold in use ({DUPLICATE_THRESHOLD}): "
          f"{accuracy(scored, DUPLICATE_THRESHOLD):.2f}")
    print(f"best threshold on the whole set: {best_threshold(scored):.2f}")
    loo = sum((scored[i][0] >= best_threshold(scored[:i] + scored[i + 1:])) == scored[i][1]
              for i in range(len(scored))) / len(scored)
    print(f"leave-one-out accuracy: {loo:.2f}")
    low_dup = min(s for s, d in scored if d)
    high_distinct = max(s for s, d in scored if not d)
    print(f"margin: lowest duplicate {low_dup:.2f}, highest distinct {high_distinct:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
