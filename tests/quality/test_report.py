"""The report page: its numbers, self-containment and determinism (the browser test opens it)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_report import MODELS, SUBTASKS, synthetic_inputs

from replay.quality import plots, stats
from replay.quality.judge_table import judge_table
from replay.quality.report import render_report, write_report
from replay.quality.report_model import ALL, accuracy_lookup, summarise

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def test_summary_computes_every_section_from_the_inputs() -> None:
    inputs = synthetic_inputs(60, seed=1)
    report = summarise(inputs)
    accepted = [it for it in inputs.items if it.status == "accepted"]
    assert report.accepted == len(accepted) and report.rejected == 8
    assert report.models == MODELS
    # Accuracy per scope is the mean of the item scores, with the seeded bootstrap interval.
    acc = accuracy_lookup(report)
    for m in MODELS:
        scores = [a.score for it in accepted for a in it.answers if a.model == m]
        assert acc[(m, ALL)] == stats.accuracy_interval(scores, seed=1)
        for s in SUBTASKS:
            n = sum(1 for it in accepted if it.item.subtask == s.name)
            assert acc[(m, s.name)].n == n
    assert [c.scope for c in report.consistency] == [ALL, *[s.name for s in SUBTASKS]]
    assert report.consistency[0].order.expected == MODELS
    assert len(report.consistency[0].separations) == 2
    # Only generated items have a complexity: one curve per model.
    assert [c.model for c in report.complexity] == MODELS
    assert sum(b.n for b in report.complexity[0].bins) == sum(
        1 for it in accepted if it.item.subtask == "Calendar scheduling")
    assert report.judge == judge_table(
        inputs.benchmark_judgement, [it.judgement for it in accepted if it.judgement],
        builder="local:judge")
    assert report.human is not None and report.human.reviewed == sum(
        1 for it in accepted if it.review)
    assert [(r.check, r.count) for r in report.rejections] == [
        ("answer_matches", 3), ("answerable", 3), ("format", 2)]


def test_the_page_is_self_contained_and_shows_every_item(tmp_path: Path) -> None:
    inputs = synthetic_inputs(30, seed=2)
    report = summarise(inputs)
    path = tmp_path / "report.html"
    write_report(report, path)
    html = path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left
    # Nothing fetched at view time: no external URL in any src/href, no stylesheet link.
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith(("data:", "#")) for r in refs), set(refs)
    assert "<link" not in html and "@import" not in html
    for name, data in inputs.media.items():  # every medium inline, byte for byte
        assert base64.b64encode(data).decode() in html, name
    assert html.count('<details class="item') == len(inputs.items)
    assert html.count("<svg") == 4  # judge, accuracy, complexity, rejections
    # Text from the run is escaped, never markup.
    assert "Evaluate charts, speech &amp; schedules &lt;fairly&gt;." in html
    assert "&lt;listen&gt; &amp; answer" in html
    assert "The judge is the backbone that built this benchmark" in html


def test_an_empty_report_renders_its_placeholders() -> None:
    inputs = synthetic_inputs(6, seed=3, reviewed=0, rejected_every=0)
    bare = summarise(type(inputs)(run_id="r", requirement="q", builder="b",
                                  subtasks=inputs.subtasks, items=[]))
    html = render_report(bare)
    assert "Not judged yet" in html and "No human review imported" in html
    assert "No model evaluated yet" in html and "<svg" not in html


def test_the_same_report_gives_the_same_bytes_in_another_process(tmp_path: Path) -> None:
    script = (
        "import sys, hashlib; sys.path.insert(0, sys.argv[1]);"
        "from synthetic_report import synthetic_inputs;"
        "from replay.quality.report import render_report;"
        "from replay.quality.report_model import summarise;"
        "print(hashlib.sha256(render_report(summarise(synthetic_inputs(24, seed=5)))"
        ".encode()).hexdigest())"
    )
    here = hashlib.sha256(render_report(summarise(synthetic_inputs(24, seed=5))).encode())
    other = subprocess.run([sys.executable, "-c", script, str(HERE)], cwd=REPO, check=True,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.strip() == here.hexdigest()


def test_svg_has_no_date_and_no_xml_prologue() -> None:
    report = summarise(synthetic_inputs(12, seed=4))
    assert report.judge is not None
    svg = plots.judge_metrics_svg(report.judge)
    assert svg.startswith("<svg") and "<?xml" not in svg and "<dc:date>" not in svg
    assert svg == plots.judge_metrics_svg(report.judge)


def test_writing_into_a_missing_directory_fails_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_report(summarise(synthetic_inputs(6, seed=1)), tmp_path / "absent" / "r.html")
    assert list(tmp_path.iterdir()) == []
