"""Exact quota allocation as a small integer program (scipy's `milp`, HiGHS).

Given groundings (subtask, dataset, plan) and each dataset's capacity, choose
integer quotas that
- sum exactly to the benchmark size,
- never exceed a dataset's capacity (shared by every grounding on it),
- give every subtask at least one sample (the coverage constraint; may be relaxed),
and, among those, stay as close as possible to an even split across subtasks,
then across each subtask's groundings. A tiny weight by grounding order makes
the optimum unique, so the same input always gives the same quotas.

When no allocation exists, `diagnose` names the binding constraint.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


@dataclass(frozen=True)
class Candidate:
    subtask: str
    dataset_id: str
    plan_id: str
    capacity: int


@dataclass(frozen=True)
class Allocation:
    counts: list[int]  # per candidate, same order
    tight_datasets: list[str]  # datasets whose capacity is used up


class Infeasible(Exception):
    def __init__(self, binding: str, detail: str) -> None:
        super().__init__(f"{binding}: {detail}")
        self.binding, self.detail = binding, detail


_SUBTASK_WEIGHT = 1000.0
_TIE_WEIGHT = 1e-3


def allocate(cands: list[Candidate], size: int, coverage: bool = True) -> Allocation:
    """Optimal quotas, or `Infeasible` naming the binding constraint.

    The objective is the sum of squared subtask totals (weighted) plus the sum of
    squared quotas: minimal exactly for the most even split the constraints allow.
    Squares are linearised exactly at integers: a count n is the sum of n unit
    steps whose k-th one costs 2k-1.
    """
    if size <= 0:
        raise Infeasible("size", f"the benchmark size must be positive, got {size}")
    if not cands:
        raise Infeasible("groundings", "no grounded (subtask, dataset, plan) to allocate to")
    g = len(cands)
    subtasks = list(dict.fromkeys(c.subtask for c in cands))
    datasets = list(dict.fromkeys(c.dataset_id for c in cands))
    cap = {d: max(c.capacity for c in cands if c.dataset_id == d) for d in datasets}
    by_sub: dict[str, list[int]] = defaultdict(list)
    for j, c in enumerate(cands):
        by_sub[c.subtask].append(j)
    x_upper = [max(0, min(c.capacity, cap[c.dataset_id], size)) for c in cands]

    # Variables: x_j (quotas), then unit steps of each subtask total, then of each quota.
    sub_steps = {sub: size for sub in subtasks}
    offset = g
    sub_base: dict[str, int] = {}
    for sub in subtasks:
        sub_base[sub] = offset
        offset += sub_steps[sub]
    x_base: list[int] = []
    for j in range(g):
        x_base.append(offset)
        offset += x_upper[j]
    n = offset
    cost = np.zeros(n)
    cost[:g] = [_TIE_WEIGHT * j for j in range(g)]
    for sub in subtasks:
        cost[sub_base[sub] : sub_base[sub] + size] = _SUBTASK_WEIGHT * (2 * np.arange(1, size + 1) - 1)
    for j in range(g):
        cost[x_base[j] : x_base[j] + x_upper[j]] = 2 * np.arange(1, x_upper[j] + 1) - 1
    rows, lo, hi = [], [], []

    def add(r: np.ndarray, low: float, high: float) -> None:
        rows.append(r)
        lo.append(low)
        hi.append(high)

    r = np.zeros(n)
    r[:g] = 1
    add(r, size, size)
    for d in datasets:
        r = np.zeros(n)
        r[[j for j, c in enumerate(cands) if c.dataset_id == d]] = 1
        add(r, 0, cap[d])
    for sub in subtasks:
        members = by_sub[sub]
        if coverage:
            r = np.zeros(n)
            r[members] = 1
            add(r, 1, np.inf)
        r = np.zeros(n)  # subtask total == its unit steps
        r[members] = 1
        r[sub_base[sub] : sub_base[sub] + size] = -1
        add(r, 0, 0)
    for j in range(g):
        r = np.zeros(n)  # quota == its unit steps
        r[j] = 1
        r[x_base[j] : x_base[j] + x_upper[j]] = -1
        add(r, 0, 0)

    upper = np.ones(n)
    upper[:g] = x_upper
    integrality = np.zeros(n)
    integrality[:g] = 1
    res = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
        integrality=integrality,
        bounds=Bounds(np.zeros(n), upper),
    )
    if res.status != 0 or res.x is None:
        raise diagnose(cands, size, coverage)
    counts = [int(round(v)) for v in res.x[:g]]
    used: dict[str, int] = defaultdict(int)
    for c, k in zip(cands, counts, strict=True):
        used[c.dataset_id] += k
    tight = [d for d in datasets if used[d] >= cap[d]]
    return Allocation(counts=counts, tight_datasets=tight)


def diagnose(cands: list[Candidate], size: int, coverage: bool) -> Infeasible:
    """Why no allocation exists: the constraint that binds."""
    caps: dict[str, int] = {}
    for c in cands:
        caps[c.dataset_id] = max(caps.get(c.dataset_id, 0), c.capacity)
    total = sum(caps.values())
    if total < size:
        parts = ", ".join(f"{d}={k}" for d, k in caps.items())
        return Infeasible(
            "capacity",
            f"the grounded datasets hold {total} usable items in all ({parts}) but the "
            f"benchmark needs {size}",
        )
    subtasks = {c.subtask for c in cands}
    if coverage and size < len(subtasks):
        return Infeasible(
            "coverage",
            f"{len(subtasks)} subtasks each need at least one sample but the size is {size}",
        )
    if coverage:
        return Infeasible(
            "coverage",
            "subtasks that share datasets cannot all get a sample within those datasets' capacity",
        )
    return Infeasible("capacity", "no integer allocation meets the dataset capacities")
