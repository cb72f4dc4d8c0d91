"""The report and the review sheet opened in a real headless Chromium (Debian's package).

Fails on any console error or uncaught exception, and on any request that leaves the page
(everything must be inline: file: for the page itself, data: for its media).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium_missing, is_blank, open_page
from PIL import Image
from synthetic_report import synthetic_inputs
from test_review_sheet import sheet_items

from replay.quality.report import write_report
from replay.quality.report_model import summarise
from replay.quality.review_sheet import read_review_csv, write_sheet

pytestmark = pytest.mark.skipif(chromium_missing() is not None,
                                reason=chromium_missing() or "")


def _only_inline(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(("file://", "data:"))]


def test_the_report_opens_without_errors_and_shows_media_plots_and_filters(
    tmp_path: Path,
) -> None:
    inputs = synthetic_inputs(45, seed=11)
    path = tmp_path / "report.html"
    write_report(summarise(inputs), path)
    images = sum(1 for it in inputs.items for m in it.item.media if m.endswith(".png"))
    audio = sum(1 for it in inputs.items for m in it.item.media if m.endswith(".wav"))
    with open_page(path.as_uri()) as (page, log):
        shot = page.screenshot(full_page=False)
        page.evaluate("document.querySelectorAll('details.item').forEach(d => d.open = true)")
        for img in page.locator("details.item img").all():  # lazy: loads once on screen
            img.scroll_into_view_if_needed()
        page.wait_for_function(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
            timeout=30_000)
        assert page.evaluate("document.images.length") == images
        # Audio is playable: the browser decodes the inline WAV and knows its length.
        page.wait_for_function(
            "Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1)",
            timeout=30_000)
        durations = page.evaluate(
            "Array.from(document.querySelectorAll('audio')).map(a => a.duration)")
        assert len(durations) == audio and all(abs(d - 0.4) < 0.01 for d in durations)
        page.evaluate("() => document.querySelector('audio').play()")  # resolves once playing
        page.wait_for_function("document.querySelector('audio').currentTime > 0",
                               timeout=10_000)
        # Plots are drawn (matplotlib's inline SVG has a size on the page).
        sizes = page.evaluate("Array.from(document.querySelectorAll('.plot svg'))"
                              ".map(s => s.getBoundingClientRect().width)")
        assert len(sizes) == 4 and min(sizes) > 100
        # The item browser filters by subtask, status and search words.
        count = page.locator("#item-count")
        assert count.text_content() == f"showing {len(inputs.items)} of {len(inputs.items)} items"
        page.select_option("#item-subtask", "Speaker intent")
        speaker = sum(1 for it in inputs.items if it.item.subtask == "Speaker intent")
        assert count.text_content() == f"showing {speaker} of {len(inputs.items)} items"
        page.select_option("#item-subtask", "")
        page.select_option("#item-status", "rejected")
        rejected = sum(1 for it in inputs.items if it.status == "rejected")
        assert count.text_content() == f"showing {rejected} of {len(inputs.items)} items"
        page.select_option("#item-status", "")
        page.fill("#item-search", "tallest (12)")
        assert count.text_content() == f"showing 1 of {len(inputs.items)} items"
        assert page.locator("details.item:not([hidden])").count() == 1
    assert log.problems() == []
    assert _only_inline(log.requests) == []
    png = tmp_path / "report.png"
    png.write_bytes(shot)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1200, 900)
    assert not is_blank(shot)


def test_the_review_sheet_saves_marks_that_import_back(tmp_path: Path) -> None:
    items = sheet_items()
    path = tmp_path / "sheet.html"
    write_sheet(items, path, run_id="run-1", requirement="Read charts and speech.")
    with open_page(path.as_uri()) as (page, log):
        assert not is_blank(page.screenshot())
        for criterion, mark in (("correct", 5), ("clear", 4), ("answerable", 5),
                                ("relevant", 2)):
            page.check(f'input[name="s1:{criterion}"][value="{mark}"]')
        for criterion in ("correct", "clear", "answerable", "relevant"):
            page.check(f'input[name="s3:{criterion}"][value="1"]')
        page.locator('section[data-id="s1"] textarea').fill('fine, but "B" is\nambiguous')
        assert page.locator("#progress").text_content() == "2 of 3 items marked"
        with page.expect_download() as download:
            page.click("#save")
        saved = tmp_path / "marks.csv"
        download.value.save_as(saved)
    assert log.problems() == [] and _only_inline(log.requests) == []
    reviews = read_review_csv(saved, {"s1", "s2", "s3"})
    assert [r.sample_id for r in reviews] == ["s1", "s3"]
    assert (reviews[0].marks.correct, reviews[0].marks.clear, reviews[0].marks.answerable,
            reviews[0].marks.relevant) == (5, 4, 5, 2)
    assert reviews[0].comment == 'fine, but "B" is\nambiguous'
    assert reviews[1].marks.correct == 1


def test_a_console_error_is_caught(tmp_path: Path) -> None:
    """The harness itself: a page that logs an error must not pass."""
    page_file = tmp_path / "bad.html"
    page_file.write_text("<!DOCTYPE html><title>x</title><p>x</p>"
                         "<script>console.error('boom'); undefinedFunction();</script>")
    with open_page(page_file.as_uri()) as (_page, log):
        pass
    assert log.problems() == ["console.error: boom",
                              "page error: undefinedFunction is not defined"]
