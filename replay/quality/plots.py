"""The report's plots: matplotlib figures rendered to inline SVG, byte for byte reproducible.

No pyplot (global state, GUI backends): each plot is a `matplotlib.figure.Figure` printed by
the Agg-family SVG backend. Determinism: a fixed `svg.hashsalt` (the ids matplotlib derives
for clip paths), no date in the metadata, text kept as text (`svg.fonttype: none`, so no glyph
outlines depend on the installed fonts). The XML prologue is dropped so the SVG can sit inside
the HTML page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never a GUI backend, even where a display exists

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from matplotlib.typing import RcKeyType  # noqa: E402

from replay.quality.judge_table import JudgeTable  # noqa: E402
from replay.quality.report_model import (  # noqa: E402
    ComplexityCurve,
    RejectionCount,
    ScopedAccuracy,
)

_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "benchagent-quality-report",
    "svg.fonttype": "none",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLORS = ["#2f5fb3", "#d9822b", "#2e7d4f", "#b3362f", "#7b4fb3", "#5c6476", "#c2a01e"]


def to_svg(fig: Figure) -> str:
    """The figure as an `<svg>` element (no XML prologue), reproducibly."""
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def judge_metrics_svg(table: JudgeTable) -> str:
    """UIA, the five item metrics and Overall on 0-100 (the paper's Table 1 as bars)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 2.6)
        ax = fig.add_subplot()
        labels = ["UIA", "FSQ", "QAC", "CQC", "TSD", "SSC", "Overall"]
        values = [table.uia, table.fsq, table.qac, table.cqc, table.tsd, table.ssc,
                  table.overall]
        colors = [_COLORS[0]] * 6 + [_COLORS[1]]
        bars = ax.bar(labels, values, color=colors)
        ax.bar_label(bars, fmt="%.1f", padding=2)
        ax.set_ylim(0, 110)
        ax.set_ylabel("score (0-100)")
        ax.set_title("LLM-as-Judge")
        return to_svg(fig)


def accuracy_svg(accuracies: Sequence[ScopedAccuracy], models: Sequence[str],
                 scopes: Sequence[str]) -> str:
    """Accuracy per scope (subtask, and the whole benchmark) and model, with 95% intervals."""
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 0.6 + 0.35 * max(1, len(scopes)) * max(1, len(models)) ** 0.5 + 1.6)
        ax = fig.add_subplot()
        lookup = {(a.model, a.scope): a.accuracy for a in accuracies}
        width = 0.8 / max(1, len(models))
        for i, model in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for j, scope in enumerate(scopes):
                iv = lookup.get((model, scope))
                if iv is None:
                    continue
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(100 * iv.estimate)
                lo.append(100 * (iv.estimate - iv.low))
                hi.append(100 * (iv.high - iv.estimate))
            ax.bar(xs, ys, width=width * 0.9, yerr=[lo, hi], capsize=2, label=model,
                   color=_COLORS[i % len(_COLORS)], error_kw={"elinewidth": 0.8})
        ax.set_xticks(range(len(scopes)), [_short(s) for s in scopes], rotation=15, ha="right")
        ax.set_ylim(0, 105)
        ax.set_ylabel("accuracy (%)")
        ax.set_title("Model accuracy with 95% bootstrap intervals")
        if models:
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        return to_svg(fig)


def complexity_svg(curves: Sequence[ComplexityCurve]) -> str:
    """Accuracy against complexity for generated items, per model (BenchAgents Fig. 2b)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 2.8)
        ax = fig.add_subplot()
        for i, curve in enumerate(curves):
            xs = [(b.low + b.high) / 2 for b in curve.bins]
            ys = [100 * b.accuracy for b in curve.bins]
            ax.plot(xs, ys, marker="o", label=curve.model, color=_COLORS[i % len(_COLORS)])
        ax.set_xlabel("complexity (bin centre)")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(-5, 105)
        ax.set_title("Accuracy against complexity (generated items)")
        if curves:
            ax.legend(fontsize=8, frameon=False)
        return to_svg(fig)


def rejections_svg(rejections: Sequence[RejectionCount]) -> str:
    """Rejected samples by the check that rejected them."""
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 0.8 + 0.3 * max(1, len(rejections)))
        ax = fig.add_subplot()
        checks = [r.check for r in rejections][::-1]
        counts = [r.count for r in rejections][::-1]
        bars = ax.barh(checks, counts, color=_COLORS[3])
        ax.bar_label(bars, padding=2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("rejected samples")
        ax.set_title("Rejections by check")
        return to_svg(fig)


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
