"""When a benchmark no longer separates models (BenchmarkAgent §1, Fig. 2: scores above
~80% soon after release): the best model's accuracy reaches the threshold, on the whole
benchmark or on one subtask.

A subtask counts only with at least `MIN_SUBTASK_ITEMS` items: two items solved say little
about a capability, and a refresh is not free. Each scope saturates once; the event names
the model, its accuracy, every scored model's accuracy and the `EvaluationScored` that
reached the threshold.
"""

from __future__ import annotations

from collections.abc import Callable

from replay.projections import RunState
from store.events import BenchmarkSaturated, Envelope, EvaluationScored

MIN_SUBTASK_ITEMS = 5


def scope_key(saturated: BenchmarkSaturated) -> str:
    return "benchmark" if saturated.scope == "benchmark" else f"subtask:{saturated.subtask}"


def new_saturations(state: RunState, threshold: float
                    ) -> list[tuple[BenchmarkSaturated, Envelope[EvaluationScored]]]:
    """Scopes that reached `threshold` and are not recorded yet, each with its cause."""
    scored = [env for envs in state.evaluations.scored.values() for env in envs]
    if not scored or state.publication.payload is None:
        return []
    recorded = {scope_key(s.payload) for s in state.lineage.saturations}
    found: list[tuple[BenchmarkSaturated, Envelope[EvaluationScored]]] = []
    best = _best(scored, lambda p: p.accuracy)
    if best is not None and best.payload.accuracy >= threshold and "benchmark" not in recorded:
        found.append((BenchmarkSaturated(
            scope="benchmark", model=best.payload.model, accuracy=best.payload.accuracy,
            threshold=threshold, n=best.payload.n, scored_event=best.event_id,
            evidence={e.payload.model: e.payload.accuracy for e in scored}), best))
    sizes = _subtask_sizes(state)
    for subtask, size in sorted(sizes.items()):
        if size < MIN_SUBTASK_ITEMS or f"subtask:{subtask}" in recorded:
            continue
        having = [e for e in scored if subtask in e.payload.per_subtask]
        top = _best(having, lambda p, s=subtask: p.per_subtask[s])  # type: ignore[misc]
        if top is not None and top.payload.per_subtask[subtask] >= threshold:
            found.append((BenchmarkSaturated(
                scope="subtask", subtask=subtask, model=top.payload.model,
                accuracy=top.payload.per_subtask[subtask], threshold=threshold, n=size,
                scored_event=top.event_id,
                evidence={e.payload.model: e.payload.per_subtask[subtask] for e in having}), top))
    return found


def _best(scored: list[Envelope[EvaluationScored]], key: Callable[[EvaluationScored], float]
          ) -> Envelope[EvaluationScored] | None:
    """The highest-scoring evaluation (the earliest among equals: stable across restarts)."""
    best: Envelope[EvaluationScored] | None = None
    for env in scored:
        if best is None or key(env.payload) > key(best.payload):
            best = env
    return best


def _subtask_sizes(state: RunState) -> dict[str, int]:
    pub = state.publication.payload
    sizes: dict[str, int] = {}
    for sid in pub.sample_ids if pub is not None else []:
        subtask = state.leaderboard.subtask_of.get(sid)
        if subtask is not None:
            sizes[subtask] = sizes.get(subtask, 0) + 1
    return sizes
