"""`benchagent report` and the quality files `replay` writes beside the folder: the page from a
judged, reviewed and evaluated run opened in a real headless Chromium (screenshot, no console
error, nothing fetched), the same bytes from the same log, the published folder untouched."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from browser import chromium_missing, is_blank, open_page
from cli_helpers import add_unpublished_run, cli, cli_json, events_of
from PIL import Image

from replay.benchmark_files import benchmark_hash

RUN = "media"


def _quality_run(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    """Judge, review two items and evaluate two models on the media run; the judge's doc."""
    judged = cli_json(capsys, "judge", RUN, "--home", str(home))
    sheet = tmp_path / "sheet.csv"
    assert cli(capsys, "review", RUN, "--sheet", str(sheet), "--home", str(home))[0] == 0
    rows = list(csv.DictReader(sheet.open()))
    for row, mark in zip(rows[:2], ("5", "2"), strict=True):
        row.update(correct=mark, clear="4", answerable="4", relevant="5")
    with (tmp_path / "marked.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert cli(capsys, "review", RUN, "--import", str(tmp_path / "marked.csv"),
               "--home", str(home))[0] == 0
    assert cli(capsys, "eval", RUN, "--model", "scripted:schema", "--model", "scripted:brain",
               "--expect-order", "scripted:schema<scripted:brain", "--home", str(home))[0] == 0
    return judged


@pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")
def test_the_report_of_a_run_opens_in_chromium_with_everything_inline(
    media_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    judged = _quality_run(media_home, tmp_path, capsys)
    page_file = tmp_path / "report.html"
    doc = cli_json(capsys, "report", RUN, "--out", str(page_file), "--home", str(media_home))
    assert doc["judged"] is True and doc["reviewed"] == 2
    # The expected order first, then the model evaluated at build.
    assert doc["models"] == ["scripted:schema", "scripted:brain", "scripted:media-brain"]
    items = [json.loads(line) for line in
             (media_home / "runs" / RUN / "benchmark.jsonl").read_text().splitlines()]
    images = sum(m.endswith(".png") for it in items for m in it["media"])
    audio = sum(m.endswith(".wav") for it in items for m in it["media"])
    with open_page(page_file.as_uri()) as (page, log):
        shot = page.screenshot(full_page=True)
        page.evaluate("document.querySelectorAll('details.item').forEach(d => d.open = true)")
        for img in page.locator("details.item img").all():
            img.scroll_into_view_if_needed()
        page.wait_for_function(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
            timeout=30_000)
        assert page.evaluate("document.images.length") == images > 0
        page.wait_for_function(
            "Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1)",
            timeout=30_000)
        assert page.locator("audio").count() == audio > 0
        cells = page.locator("#judge-table tr").nth(1).locator("td").all_text_contents()
        table = judged["table"]
        assert cells == [f"{table[m]:.2f}" for m in ("uia", "fsq", "qac", "cqc", "tsd", "ssc",
                                                      "overall")]
        text = page.locator("main").inner_text()
        assert "it grades its own work" in text  # self-judged, said on the page
        assert "could not see some media" in text
        assert "Agreement with the judge on 2 items" in text
        assert page.locator("#accuracy-table tr").count() == 4  # header + three models
        assert page.locator("#consistency-table").count() == 1
        assert page.locator(".plot svg").count() == 3  # judge, accuracy, complexity
    assert log.problems() == []
    assert [u for u in log.requests if not u.startswith(("file://", "data:"))] == []
    png = tmp_path / "report.png"
    png.write_bytes(shot)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] == 1200 and image.size[1] > 900
    assert not is_blank(shot)


def test_replay_rebuilds_the_quality_report_beside_the_untouched_folder(
    media_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "replayed"
    doc = cli_json(capsys, "replay", RUN, "--out", str(out), "--home", str(media_home))
    assert doc["quality"] == []  # not judged, not reviewed: no quality report
    judged = _quality_run(media_home, tmp_path, capsys)
    doc = cli_json(capsys, "replay", RUN, "--out", str(out), "--home", str(media_home))
    summary, page = (Path(p) for p in doc["quality"])
    assert (summary, page) == (tmp_path / "replayed.quality.json",
                               tmp_path / "replayed.quality.html")
    assert benchmark_hash(out) == doc["content_hash"]  # the folder is the published files
    figures = json.loads(summary.read_text())
    assert figures["judge"] == judged["table"]
    assert figures["human"]["reviewed"] == 2
    assert {a["model"] for a in figures["accuracies"]} == {
        "scripted:schema", "scripted:brain", "scripted:media-brain"}
    assert [c["scope"] for c in figures["consistency"]][0] == "all"
    first = (summary.read_bytes(), page.read_bytes())
    cli_json(capsys, "replay", RUN, "--out", str(tmp_path / "again"), "--home", str(media_home))
    assert ((tmp_path / "again.quality.json").read_bytes(),
            (tmp_path / "again.quality.html").read_bytes()) == first
    cli_json(capsys, "report", RUN, "--out", str(tmp_path / "r.html"), "--json-out",
             str(tmp_path / "r.json"), "--home", str(media_home))
    assert (tmp_path / "r.html").read_bytes() == first[1]
    assert (tmp_path / "r.json").read_bytes() == first[0]


def test_bad_report_requests_write_nothing(media_home: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    add_unpublished_run(media_home)
    before = len(events_of(media_home, RUN))
    for argv, message in (
        (["report", "no-such-run", "--out", str(tmp_path / "r.html")], "unknown run id"),
        (["report", "draft", "--out", str(tmp_path / "r.html")], "has not published"),
        (["report", RUN, "--out", str(tmp_path / "no" / "r.html")], "does not exist"),
        (["report", RUN, "--out", str(tmp_path / "r.txt")], "is an .html file"),
    ):
        code, out, err = cli(capsys, *argv, "--home", str(media_home))
        assert code == 2 and out == "" and message in err, err
        assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert len(events_of(media_home, RUN)) == before
