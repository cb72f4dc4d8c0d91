"""`benchagent review`: a sheet of sampled items, its marks imported as `HumanReviewed`
events, acceptance (Acc.) and agreement with the judge (Cohen's κ); bad files refused whole."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cli_helpers import cli, cli_json, types_of

from replay.quality.review_sheet import SHEET_COLUMNS

RUN = "media"


def _fill(sheet: Path, marks: dict[str, list[int]], target: Path) -> Path:
    rows = list(csv.DictReader(io.StringIO(sheet.read_text())))
    for row in rows:
        for criterion, mark in zip(("correct", "clear", "answerable", "relevant"),
                                   marks.get(row["sample_id"], []), strict=False):
            row[criterion] = str(mark)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SHEET_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.write_text(buf.getvalue())
    return target


def test_a_sheet_is_marked_imported_once_and_agrees_with_the_judge(
    media_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    html = tmp_path / "sheet.html"
    doc = cli_json(capsys, "review", RUN, "--sheet", str(html), "--home", str(media_home))
    ids = doc["items"]
    assert len(ids) == 4 and html.read_text().count('data-id="') == 4
    assert html.read_text().count("<audio controls") == 2  # media inline
    assert html.read_text().count("src=\"data:audio/") == 2
    sheet = tmp_path / "sheet.csv"
    sample = cli_json(capsys, "review", RUN, "--sheet", str(sheet), "--items", "3",
                      "--home", str(media_home))["items"]
    assert len(sample) == 3 and set(sample) <= set(ids)
    assert [r["sample_id"] for r in csv.DictReader(sheet.open())] == sample

    assert cli(capsys, "judge", RUN, "--home", str(media_home))[0] == 0
    judged = {e.payload.sample_id: e.payload for e in types_of(media_home, RUN, "ItemJudged")}
    # People agree with the judge on two items and reject a third the judge accepted.
    marks = {}
    for sid in sample:
        s = judged[sid].scores
        marks[sid] = [s.qac.score, s.fsq.score, s.cqc.score, s.tsd.score]
    marks[sample[2]] = [1, 1, 1, 1]
    filled = _fill(sheet, marks, tmp_path / "marked.csv")
    doc = cli_json(capsys, "review", RUN, "--import", str(filled), "--home", str(media_home))
    assert doc["imported"] == 3 and doc["new"] == 3
    reviewed = types_of(media_home, RUN, "HumanReviewed")
    assert sorted(e.payload.sample_id for e in reviewed) == sorted(sample)
    assert reviewed[0].payload.sheet.startswith("marked.csv#")
    human = doc["human"]
    assert human["reviewed"] == 3 and human["judged_and_reviewed"] == 3
    accepted = sum(all(m >= 3 for m in v) for v in marks.values())
    assert human["acceptance"]["estimate"] == pytest.approx(accepted / 3)
    assert "κ rests on 3 items" in human["warning"]

    # The same file again records nothing new.
    again = cli_json(capsys, "review", RUN, "--import", str(filled), "--home", str(media_home))
    assert again["new"] == 0 and len(types_of(media_home, RUN, "HumanReviewed")) == 3
    code, out, _ = cli(capsys, "review", RUN, "--import", str(filled), "--home",
                       str(media_home))
    assert "acceptance (Acc.)" in out and "Cohen's κ" in out


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace(",5,", ",7,", 1), "is not a whole number from 1 to 5"),
    (lambda t: t + "no-such-item,,,,,,1,1,1,1,\n", "unknown item id 'no-such-item'"),
    (lambda t: t.replace("sample_id", "id", 1), "missing column sample_id"),
])
def test_a_bad_review_file_records_nothing(media_home: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], edit,
                                           message: str) -> None:
    sheet = tmp_path / "sheet.csv"
    assert cli(capsys, "review", RUN, "--sheet", str(sheet), "--home", str(media_home))[0] == 0
    ids = [r["sample_id"] for r in csv.DictReader(sheet.open())]
    filled = _fill(sheet, {sid: [5, 5, 5, 5] for sid in ids}, tmp_path / "marked.csv")
    filled.write_text(edit(filled.read_text()))
    code, out, err = cli(capsys, "review", RUN, "--import", str(filled), "--home",
                         str(media_home))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
    assert types_of(media_home, RUN, "HumanReviewed") == []


def test_bad_sheet_requests_write_nothing(media_home: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["review", RUN, "--sheet", str(tmp_path / "sheet.txt")], "is .html or .csv"),
        (["review", RUN, "--sheet", str(tmp_path / "no" / "sheet.csv")], "cannot be written"),
        (["review", "no-such-run", "--sheet", str(tmp_path / "s.csv")], "unknown run id"),
        (["review", RUN, "--sheet", str(tmp_path / "s.csv"), "--items", "0"], "--items"),
        (["review", RUN, "--import", str(tmp_path / "missing.csv")], "no such file"),
    ):
        code, out, err = cli(capsys, *argv, "--home", str(media_home))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
