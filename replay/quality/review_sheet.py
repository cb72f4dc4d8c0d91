"""Human review sheets: sampled items for a person to mark 1-5 on the paper's criteria.

The paper's human evaluation (§4.1): experts judge whether items are *correct, clear,
answerable and relevant* to the intended capability, on 1-5. A sheet is written as

- **HTML**: one self-contained page (media inline as data: URIs, audio playable), with a
  1-5 choice per criterion and a button that saves the marks as a CSV for `--import`;
- **CSV**: one row per item (question, options, answer, media names) with empty mark columns,
  for a spreadsheet.

`read_review_csv` reads a filled CSV back (either kind) and rejects it with one line naming
the row and column of the first problem. A row whose four marks are all empty is an item not
yet reviewed and is skipped; a row with some marks and not others is an error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from pathlib import Path

import msgspec
import numpy as np

from replay.quality.output import write_atomically
from replay.quality.templating import environment, letter
from store.events import BenchmarkItem
from store.quality import CRITERIA, HumanMarks, HumanReview

ID_COLUMN = "sample_id"
COMMENT_COLUMN = "comment"
SHEET_COLUMNS = (ID_COLUMN, "subtask", "question", "options", "answer", "media", *CRITERIA,
                 COMMENT_COLUMN)
REQUIRED_COLUMNS = (ID_COLUMN, *CRITERIA)
_MARKS = frozenset("12345")
CRITERION_HELP = {
    "correct": "the labelled answer is right",
    "clear": "the question and options are unambiguous and well formed",
    "answerable": "it can be answered from the text and media given",
    "relevant": "it tests the subtask's intended capability",
}


class ReviewSheetError(ValueError):
    """A review file that cannot be used; the message names the row and column."""


class SheetItem(msgspec.Struct, frozen=True, kw_only=True):
    sample_id: str
    item: BenchmarkItem
    media: dict[str, bytes] = {}  # media name → bytes (names as in item.media)


def sample_for_review(sample_ids: Collection[str], n: int | None, *, seed: int) -> list[str]:
    """`n` ids drawn without replacement (all of them if `n` is None or too large), sorted;
    the same seed gives the same sheet."""
    ids = sorted(sample_ids)
    if n is None or n >= len(ids):
        return ids
    if n < 1:
        raise ValueError("a review sheet needs at least one item")
    picked = np.random.default_rng(seed).choice(len(ids), size=n, replace=False)
    return sorted(ids[int(i)] for i in picked)


def _options(item: BenchmarkItem) -> str:
    return "\n".join(f"{letter(i)}. {c}" for i, c in enumerate(item.choices or []))


def render_csv_sheet(items: Sequence[SheetItem]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    for s in items:
        it = s.item
        writer.writerow([s.sample_id, it.subtask, it.input, _options(it), it.target,
                         " ".join(it.media), *([""] * len(CRITERIA)), ""])
    return buf.getvalue()


def render_html_sheet(items: Sequence[SheetItem], *, run_id: str, requirement: str) -> str:
    return environment().get_template("review_sheet.html.j2").render(
        run_id=run_id, requirement=requirement, items=items, criteria=CRITERIA,
        criterion_help=CRITERION_HELP, columns=(ID_COLUMN, *CRITERIA, COMMENT_COLUMN))


def write_sheet(items: Sequence[SheetItem], path: Path, *, run_id: str, requirement: str) -> None:
    """Write the sheet as HTML or CSV, chosen by `path`'s suffix; all or nothing."""
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html_sheet(items, run_id=run_id, requirement=requirement)
    elif suffix == ".csv":
        text = render_csv_sheet(items)
    else:
        raise ReviewSheetError(f"{path}: a review sheet is .html or .csv, not {suffix or '(none)'}")
    write_atomically(Path(path), text.encode("utf-8"))


def read_review_csv(path: Path, known_ids: Collection[str]) -> list[HumanReview]:
    """The marked rows of a filled sheet, validated against the run's item ids."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet may add a BOM
    except FileNotFoundError:
        raise ReviewSheetError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ReviewSheetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return parse_review_csv(text, known_ids, source=str(path))


def parse_review_csv(text: str, known_ids: Collection[str], *, source: str) -> list[HumanReview]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReviewSheetError(
            f"{source} row 1: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the header must name {', '.join(REQUIRED_COLUMNS)})")
    known = set(known_ids)
    seen: dict[str, int] = {}
    reviews: list[HumanReview] = []
    for row_no, row in enumerate(reader, start=2):  # row 1 is the header
        def fail(column: str, problem: str, row_no: int = row_no) -> ReviewSheetError:
            return ReviewSheetError(f"{source} row {row_no}, column {column}: {problem}")

        if None in row:  # more cells than the header has columns
            raise fail(ID_COLUMN, f"{len(header) + len(row[None])} cells for "
                       f"{len(header)} columns")
        sid = (row.get(ID_COLUMN) or "").strip()
        cells = {c: (row.get(c) or "").strip() for c in CRITERIA}
        if not sid and not any(cells.values()):
            continue  # an empty line
        if sid not in known:
            raise fail(ID_COLUMN, f"unknown item id {sid!r}" if sid else "no item id")
        if not any(cells.values()):
            continue  # not reviewed yet
        if sid in seen:
            raise fail(ID_COLUMN, f"item {sid} is marked twice (rows {seen[sid]} and {row_no})")
        marks: dict[str, int] = {}
        for c in CRITERIA:
            cell = cells[c]
            if not cell:
                raise fail(c, "no mark (mark all four criteria, or none to skip the item)")
            if cell not in _MARKS:
                raise fail(c, f"mark {cell!r} is not a whole number from 1 to 5")
            marks[c] = int(cell)
        seen[sid] = row_no
        reviews.append(HumanReview(sample_id=sid, marks=HumanMarks(**marks),
                                   comment=(row.get(COMMENT_COLUMN) or "").strip()))
    if not reviews:
        raise ReviewSheetError(f"{source}: no row has marks")
    return reviews

