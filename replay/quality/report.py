"""The quality report: one self-contained HTML page from a `QualityReport`.

Nothing is fetched when the page is viewed: styles and script are inline, plots are inline
SVG (`replay.quality.plots`), media are data: URIs. The page is deterministic: the same
report gives the same bytes (no clock, seeded statistics, reproducible SVG), so `replay` can
rebuild it and compare.
"""

from __future__ import annotations

from pathlib import Path

from replay.quality import plots
from replay.quality.output import write_atomically
from replay.quality.report_model import ALL, QualityReport
from replay.quality.templating import environment
from store.quality import CRITERIA, ITEM_METRICS

METRIC_LABELS = {"uia": "UIA", "fsq": "FSQ", "qac": "QAC", "cqc": "CQC", "tsd": "TSD",
                 "ssc": "SSC"}


def render_report(report: QualityReport) -> str:
    scopes = [ALL, *[s.name for s in report.subtasks]]
    figures = {
        "judge": plots.judge_metrics_svg(report.judge) if report.judge else "",
        "accuracy": (plots.accuracy_svg(report.accuracies, report.models, scopes)
                     if report.accuracies else ""),
        "complexity": plots.complexity_svg(report.complexity) if report.complexity else "",
        "rejections": plots.rejections_svg(report.rejections) if report.rejections else "",
    }
    accuracy = {(a.model, a.scope): a.accuracy for a in report.accuracies}
    counts = {s.name: 0 for s in report.subtasks}
    for it in report.items:
        if it.status == "accepted":
            counts[it.item.subtask] = counts.get(it.item.subtask, 0) + 1
    return environment().get_template("report.html.j2").render(
        r=report, figures=figures, scopes=scopes, accuracy=accuracy, counts=counts,
        item_metrics=ITEM_METRICS, metric_labels=METRIC_LABELS, criteria=CRITERIA, ALL=ALL,
    )


def write_report(report: QualityReport, path: Path) -> None:
    """Render and write the page; all or nothing."""
    write_atomically(Path(path), render_report(report).encode("utf-8"))
