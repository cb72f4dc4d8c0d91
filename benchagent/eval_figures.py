"""What `benchagent eval` prints beyond the raw accuracies: per subtask and overall, each
model's accuracy with its bootstrap 95% interval; with an expected order, Kendall's τ and
the separability of adjacent models. A figure the items cannot support carries its warning
(`replay.quality.stats`) instead of false precision."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from benchagent.table import format_table
from replay.projections import RunState
from replay.quality.from_run import report_inputs
from replay.quality.report_model import ALL, Consistency, ScopedAccuracy, summarise


class EvalFigures(msgspec.Struct, frozen=True, kw_only=True):
    accuracy: list[ScopedAccuracy] = []  # model × scope (ALL = the whole benchmark)
    consistency: list[Consistency] = []  # per scope, with --expect-order


def eval_figures(state: RunState, models: Sequence[str], order: Sequence[str]) -> EvalFigures:
    inputs = report_inputs(state, models=models, expected_order=order, with_rejected=False,
                           seed=state.request.payload.seed)
    report = summarise(inputs)
    return EvalFigures(accuracy=report.accuracies, consistency=report.consistency)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def render_figures(f: EvalFigures) -> str:
    scopes = list(dict.fromkeys(a.scope for a in f.accuracy))
    rows = [[a.model, "overall" if a.scope == ALL else a.scope, a.accuracy.n,
             _pct(a.accuracy.estimate),
             f"[{_pct(a.accuracy.low)}, {_pct(a.accuracy.high)}]",
             "⚠" if a.accuracy.warning else ""]
            for scope in scopes for a in f.accuracy if a.scope == scope]
    lines = ["accuracy (%) with bootstrap 95% intervals",
             format_table(["model", "scope", "n", "acc.", "95% interval", ""], rows)]
    warnings = list(dict.fromkeys(a.accuracy.warning for a in f.accuracy if a.accuracy.warning))
    lines += [f"⚠ {w}" for w in warnings]
    for c in f.consistency:
        scope = "overall" if c.scope == ALL else c.scope
        tau = "undefined" if c.order.tau is None else f"{c.order.tau:+.2f}"
        p = "" if c.order.p_value is None else f" (one-sided p = {c.order.p_value:.3f})"
        lines.append(f"\n{scope}: expected {' < '.join(c.order.expected)}; observed "
                     f"{' < '.join(c.order.observed)}; Kendall τ {tau}{p}")
        if c.order.warning:
            lines.append(f"  ⚠ {c.order.warning}")
        for s in c.separations:
            verdict = {"as_expected": "separable, as expected", "reversed": "separable, reversed",
                       "inseparable": "not separable"}[s.direction]
            lines.append(f"  {s.lower} → {s.higher}: {100 * s.difference:+.1f} points "
                         f"[{100 * s.low:+.1f}, {100 * s.high:+.1f}] over {s.n} items: {verdict}")
            if s.warning:
                lines.append(f"    ⚠ {s.warning}")
    return "\n".join(lines)
