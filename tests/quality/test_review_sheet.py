"""Review sheets: written as HTML and CSV, read back with validation that names row and column."""

from __future__ import annotations

import base64
import csv
import io
import wave
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from replay.quality.review_sheet import (
    SHEET_COLUMNS,
    ReviewSheetError,
    SheetItem,
    read_review_csv,
    render_csv_sheet,
    sample_for_review,
    write_sheet,
)
from store.events import BenchmarkItem


def png_bytes(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 9), color).save(buf, format="PNG")
    return buf.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A 440 Hz tone as 16-bit mono WAV."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def sheet_items() -> list[SheetItem]:
    png, wav = png_bytes(), wav_bytes()
    return [
        SheetItem(sample_id="s1", item=BenchmarkItem(
            id="s1", subtask="Chart reading", input='Which bar is "tallest"?\nLook closely.',
            choices=["red", "blue, dark"], target="B", media=["media/a.png"]),
            media={"media/a.png": png}),
        SheetItem(sample_id="s2", item=BenchmarkItem(
            id="s2", subtask="Speech", input="Who speaks first?", target="Anna",
            media=["media/b.wav"]), media={"media/b.wav": wav}),
        SheetItem(sample_id="s3", item=BenchmarkItem(
            id="s3", subtask="Speech", input="<b>not markup</b>", target="x")),
    ]


class _Media(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src")
        if tag in ("img", "audio") and src:
            self.sources.append((tag, src))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_sheet_inlines_media_and_escapes_text(tmp_path: Path) -> None:
    items = sheet_items()
    path = tmp_path / "sheet.html"
    write_sheet(items, path, run_id="run-1", requirement="Read charts & speech.")
    html = path.read_text()
    parser = _Media()
    parser.feed(html)
    (img_tag, img_src), (audio_tag, audio_src) = parser.sources
    assert img_tag == "img" and img_src.startswith("data:image/png;base64,")
    assert base64.b64decode(img_src.split(",", 1)[1]) == items[0].media["media/a.png"]
    assert audio_tag == "audio" and audio_src.startswith("data:audio/x-wav;base64,")
    assert base64.b64decode(audio_src.split(",", 1)[1]) == items[1].media["media/b.wav"]
    assert "&lt;b&gt;not markup&lt;/b&gt;" in html and "<b>not markup" not in html
    assert "http://" not in html and "https://" not in html  # nothing fetched at view time
    assert "benchagent review run-1 --import FILE.csv" in "".join(parser.text)


def test_csv_sheet_round_trips_through_a_spreadsheet_like_edit(tmp_path: Path) -> None:
    items = sheet_items()
    path = tmp_path / "sheet.csv"
    write_sheet(items, path, run_id="run-1", requirement="r")
    rows = list(csv.DictReader(path.open(newline="")))
    assert tuple(rows[0]) == SHEET_COLUMNS
    assert rows[0]["question"] == 'Which bar is "tallest"?\nLook closely.'
    assert rows[0]["options"] == "A. red\nB. blue, dark" and rows[1]["media"] == "media/b.wav"
    rows[0].update(correct="5", clear="4", answerable="5", relevant="3", comment="fine, mostly")
    rows[2].update(correct="1", clear="2", answerable="1", relevant="1")
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="", encoding="utf-8-sig") as f:  # a BOM, as Excel writes
        writer = csv.DictWriter(f, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    reviews = read_review_csv(filled, {"s1", "s2", "s3"})
    assert [r.sample_id for r in reviews] == ["s1", "s3"]  # s2 not reviewed yet: skipped
    assert reviews[0].marks.clear == 4 and reviews[0].comment == "fine, mostly"
    assert reviews[1].marks.correct == 1


def _filled(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "marks.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


HEADER = "sample_id,correct,clear,answerable,relevant,comment"


@pytest.mark.parametrize(("rows", "message"), [
    (["s1,5,5,5,5,", "s9,4,4,4,4,"], "row 3, column sample_id: unknown item id 's9'"),
    (["s1,5,7,5,5,"], "row 2, column clear: mark '7' is not a whole number from 1 to 5"),
    (["s1,5,5,4.5,5,"], "row 2, column answerable: mark '4.5' is not a whole number"),
    (["s1,5,5,5,,"], "row 2, column relevant: no mark (mark all four criteria"),
    (["s1,5,5,5,5,", "s1,4,4,4,4,"], "row 3, column sample_id: item s1 is marked twice "
                                     "(rows 2 and 3)"),
    ([",5,5,5,5,"], "row 2, column sample_id: no item id"),
    (["s1,,,,,"], "no row has marks"),
    (["s1,5,5,5,5,ok,extra"], "row 2, column sample_id: 7 cells for 6 columns"),
])
def test_a_bad_review_file_fails_with_one_line_naming_row_and_column(
    tmp_path: Path, rows: list[str], message: str,
) -> None:
    with pytest.raises(ReviewSheetError) as err:
        read_review_csv(_filled(tmp_path, HEADER, *rows), {"s1", "s2"})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_columns_and_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ReviewSheetError, match=r"row 1: missing columns answerable, relevant"):
        read_review_csv(_filled(tmp_path, "sample_id,correct,clear", "s1,5,5"), {"s1"})
    with pytest.raises(ReviewSheetError, match="no such file"):
        read_review_csv(tmp_path / "absent.csv", {"s1"})
    binary = tmp_path / "marks.xlsx.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ReviewSheetError, match="not UTF-8"):
        read_review_csv(binary, {"s1"})


def test_a_sheet_of_an_unknown_kind_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ReviewSheetError, match=r"\.html or \.csv"):
        write_sheet(sheet_items(), tmp_path / "sheet.pdf", run_id="r", requirement="r")
    assert list(tmp_path.iterdir()) == []


def test_sampling_for_review_is_seeded() -> None:
    ids = [f"s{i:03d}" for i in range(100)]
    first = sample_for_review(ids, 10, seed=1)
    assert first == sample_for_review(ids, 10, seed=1) and len(set(first)) == 10
    assert first == sorted(first) and first != sample_for_review(ids, 10, seed=2)
    assert sample_for_review(ids, None, seed=1) == ids == sample_for_review(ids, 500, seed=1)


def test_csv_sheet_has_every_item_once() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv_sheet(sheet_items()))))
    assert [r["sample_id"] for r in rows] == ["s1", "s2", "s3"]
    assert all(r["correct"] == "" for r in rows)
