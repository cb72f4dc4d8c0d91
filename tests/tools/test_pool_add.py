"""`benchagent pool add`: JSONL, CSV, Parquet and a saved Hugging Face dataset enter a pool with
an inferred card, and a scripted `benchagent build` grounds its items in them."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agents"))
import scripted_brain  # noqa: E402
from build_helpers import read_events, register_brains  # noqa: E402

from benchagent.cli import main  # noqa: E402
from replay.anchor import Anchor  # noqa: E402
from tools.cards import parse_card  # noqa: E402
from tools.llm.scripted import register_responder  # noqa: E402
from tools.pool import Pool  # noqa: E402
from tools.pool_import import role_by_name, source_sha256  # noqa: E402

EVENTS = ["the glass fell off the table", "the power went out during the storm",
          "she forgot to water the plants for a month", "the river flooded after heavy rain",
          "he left the ice cream in the sun", "the car ran out of petrol on the motorway",
          "the baker overslept on Monday", "the dog barked at midnight",
          "the road froze overnight", "the kettle was left on the stove",
          "the team trained every day for a year", "the phone fell into the bath",
          "the bridge was closed for repairs", "the printer ran out of paper",
          "the farmer planted seeds in spring", "the child ate too many sweets"]
EFFECTS = [["It broke into pieces", "It flew away", "It turned into water", "It sang a song"],
           ["The lights turned off", "The sun rose", "The cat grew taller", "The river froze"]]


def records() -> list[dict[str, Any]]:
    out = []
    for i, event in enumerate(EVENTS):
        options = list(EFFECTS[i % 2])
        answer = "ABCD"[i % 4]
        right = options[0]
        options[0], options["ABCD".index(answer)] = options["ABCD".index(answer)], right
        out.append({"id": f"ev{i:02d}", "question": f"Everyday cause and effect: {event}. "
                    "What is the most likely effect?", "choices": options, "answer": answer,
                    "difficulty": i % 3})
    return out


def write_images(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(len(EVENTS)):
        name = f"scene_{i:02d}.png"
        Image.new("RGB", (16, 12), (i * 15, 100, 200 - i * 10)).save(folder / name)
        names.append(name)
    return names


def make_source(kind: str, root: Path) -> Path:
    rows = records()
    root.mkdir(parents=True, exist_ok=True)
    if kind == "jsonl":  # with an image per record, as paths relative to the file
        names = write_images(root / "images")
        path = root / "causes.jsonl"
        path.write_text("".join(json.dumps({**r, "image": f"images/{n}"}) + "\n"
                                for r, n in zip(rows, names, strict=True)))
    elif kind == "csv":  # options as columns A-D, as exported from a spreadsheet
        path = root / "causes.csv"
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["question", "A", "B", "C", "D", "answer", "notes"])
            for r in rows:
                writer.writerow([r["question"], *r["choices"], r["answer"], "ok"])
    elif kind == "parquet":
        path = root / "causes.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:  # a DatasetDict saved by the datasets library, images embedded
        datasets = pytest.importorskip("datasets")
        names = write_images(root / "pictures")
        table = {k: [r[k] for r in rows] for k in ("id", "question", "choices", "answer")}
        table["image"] = [str(root / "pictures" / n) for n in names]
        ds = datasets.Dataset.from_dict(table).cast_column("image", datasets.Image())
        ds.info.license = "cc-by-4.0"
        path = root / "causes_hf"
        datasets.DatasetDict({"train": ds.select(range(10)),
                              "test": ds.select(range(10, 16))}).save_to_disk(str(path))
    return path


class CausesBrain(scripted_brain.ScriptedBrain):
    """The scripted brain, designing two cause-and-effect subtasks (the design's least), and
    answering this test's own records right when it solves them blind."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        effects = {"name": "Effect prediction",
                   "description": "Predict the most likely effect of an everyday event.",
                   "capability": "causal reasoning about the effects of everyday events",
                   "answer_format": "multiple_choice", "distinct_focus": "effects only"}
        return {"subtasks": [dict(scripted_brain.TOPICS[0][1]), effects],
                "reason": "causes and effects"}

    def answer(self, messages: list[dict[str, Any]]) -> str:
        """Blind, it knows this file's answers as it knows General-Bench's (records share
        their options: the event in the question tells them apart)."""
        content = str(messages[-1].get("content", ""))
        options = scripted_brain.shown_options(content)
        for record in records():
            if record["question"] in content and set(record["choices"]) == set(options):
                right = record["choices"]["ABCD".index(record["answer"])]
                return "ABCD"[options.index(right)]
        return super().answer(messages)


def add(capsys: pytest.CaptureFixture[str], path: Path, pool: Path, *extra: str) -> tuple[int, Any, str]:
    code = main(["pool", "add", str(path), "--pool", str(pool), "--json", *extra])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "hf-disk"])
def test_a_dataset_enters_the_pool_and_grounds_a_build(kind: str, tmp_path: Path,
                                                       capsys) -> None:
    source = make_source(kind, tmp_path / "user")
    pool = tmp_path / "pool"
    code, doc, err = add(capsys, source, pool)
    assert code == 0, err
    card = doc["card"]
    assert card["raw_meta"]["source_format"] == kind
    assert card["raw_meta"]["source_sha256"] == source_sha256(source)
    if source.is_file():
        assert source_sha256(source) == hashlib.sha256(source.read_bytes()).hexdigest()
    assert card["dataset_id"] == source_sha256(source)[:8]
    assert card["size_samples"] == len(EVENTS) == doc["usable"]
    roles = {p["role"]: p["path"] for p in doc["placements"]}
    assert roles["question"] == "question" and roles["answer"] == "answer"
    assert roles["options"] in ("choices", "options")
    assert "multiple_choice_qa" in card["tasks"]
    has_image = kind in ("jsonl", "hf-disk")
    assert ("image" in roles) == has_image
    assert card["modalities"] == (["image", "text"] if has_image else ["text"])
    if kind in ("jsonl", "parquet"):
        assert doc["left_out"] == {"id": "a record id",
                                   "difficulty": "number values of unknown meaning"}
    if kind == "csv":
        assert doc["left_out"] == {"notes": "short or repeated text of unknown meaning"}
    assert card["license"] == ("cc-by-4.0" if kind == "hf-disk" else None)
    card_file = Path(doc["card_file"])
    assert not isinstance(parse_card(card_file.name, card_file.read_bytes()), type(None))

    # The pool reads the records back, inside the pool, with their options and images.
    loaded = Pool.load([pool], include_generators=False)
    items = loaded.items(card["dataset_id"])
    assert [i.fields["question"] for i in items] == [r["question"] for r in records()]
    assert [i.fields["options"] for i in items] == [r["choices"] for r in records()]
    for item in items:
        for media in item.media.get("image", []):
            assert Path(media).is_relative_to(pool.resolve())
    if has_image:
        originals = sorted((source.parent / "images" if kind == "jsonl"
                            else source.parent / "pictures").iterdir())
        assert [Path(i.media["image"][0]).read_bytes() for i in items] == [
            p.read_bytes() for p in originals]

    # A scripted build grounds its items in the new dataset.
    register_brains()
    register_responder("causes", CausesBrain())
    config = tmp_path / "no-generators.yaml"
    config.write_text("agents: {generators: false}\n")
    home = tmp_path / "home"
    code = main(["build", "I want to evaluate whether a model can reason about causes and "
                 "effects in everyday events", "--size", "6", "--seed", "4", "--llm",
                 "scripted:causes", "--pool", str(pool), "--config", str(config),
                 "--home", str(home), "--run-id", "own-data", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.out[-2000:] + out.err[-2000:]
    lines = (home / "runs" / "own-data" / "benchmark.jsonl").read_text().splitlines()
    published = [json.loads(line) for line in lines]
    assert len(published) == 6
    by_question = {r["question"]: r for r in records()}
    for item in published:
        assert item["metadata"]["source_dataset"] == card["dataset_id"]
        source_record = next(r for q, r in by_question.items() if q in item["input"])
        right = source_record["choices"]["ABCD".index(source_record["answer"])]
        assert item["choices"][ord(item["target"]) - ord("A")] == right
        assert bool(item["media"]) == has_image
    events = read_events(home, "own-data")
    grounded = [e.payload for e in events if e.type == "SubtasksGrounded"]
    assert {g.dataset_id for g in grounded[-1].groundings} == {card["dataset_id"]}


def test_names_say_the_roles() -> None:
    assert role_by_name("answer_text") == "answer"
    assert role_by_name("question_type") == "category"
    assert role_by_name("output.prediction") == "answer"
    assert role_by_name("input.question") == "question"
    assert role_by_name("premise") == "context"
    assert role_by_name("correct_answer") == "answer"
    assert role_by_name("image_path") == "image"
    assert role_by_name("annotator") is None


def test_an_hf_export_of_a_benchmark_can_be_added_back(tmp_path: Path, capsys) -> None:
    """A Parquet file written by `benchagent export --format hf` (Image features embedded)."""
    pytest.importorskip("datasets")
    from replay.exports.facts import RunFacts, SubtaskInfo
    from replay.exports.hf import write

    png = tmp_path / "p.png"
    Image.new("RGB", (5, 5), "green").save(png)
    name = f"media/{hashlib.sha256(png.read_bytes()).hexdigest()}.png"
    lines = [json.dumps({"id": f"i{i}", "subtask": "colour", "input": f"What colour is image {i}?",
                         "choices": None, "target": "green", "media": [name],
                         "metadata": {}}) for i in range(3)]
    files = {"benchmark.jsonl": ("\n".join(lines) + "\n").encode(), name: png.read_bytes()}
    facts = RunFacts(run_id="r", requirement="colours", seed=1, size=3, llm="x", disabled=[],
                     accepted=3, rejected=0, anchor=Anchor(run_id="r", content_hash="c", head_hash="h", head_seq=1),
                     subtasks=[SubtaskInfo(name="colour", items=3)], sources=[])
    parquet = tmp_path / "colours.parquet"
    parquet.write_bytes(write(files, facts)["data/colour/test-00000-of-00001.parquet"])
    code, doc, err = add(capsys, parquet, tmp_path / "pool")
    assert code == 0, err
    roles = {p["role"]: p["path"] for p in doc["placements"]}
    assert roles["image"] == "image" and roles["answer"] == "target"
    items = Pool.load([tmp_path / "pool"], include_generators=False).items(
        doc["card"]["dataset_id"])
    assert [Path(i.media["image"][0]).read_bytes() for i in items] == [png.read_bytes()] * 3


# ------------------------------------------------------------------ bad input


def test_bad_input_is_one_line_and_the_pool_is_unchanged(tmp_path: Path, capsys) -> None:
    pool = tmp_path / "pool"
    (pool / "dataset_cards").mkdir(parents=True)
    bad_parquet = tmp_path / "broken.parquet"
    bad_parquet.write_bytes(b"PAR1 this is not parquet")
    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text("".join(json.dumps({"question": f"Why did thing {i} happen today?"})
                                  + "\n" for i in range(3)))
    escaping = tmp_path / "escaping.jsonl"
    escaping.write_text(json.dumps({"question": "What is shown here in the picture?",
                                    "answer": "a cat", "image": "../../etc/cat.png"}) + "\n")
    not_hf = tmp_path / "folder"
    not_hf.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    cases = [
        (tmp_path / "missing.csv", "does not exist"),
        (bad_parquet, "cannot be read as parquet"),
        (notes, "unknown data format .txt"),
        (not_hf, "not a saved Hugging Face dataset"),
        (unlabelled, "no field is the answer (fields: question)"),
        (escaping, "media paths must be relative to the dataset's folder"),
    ]
    for path, message in cases:
        code = main(["pool", "add", str(path), "--pool", str(pool)])
        err = capsys.readouterr().err
        assert code == 2, path
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert "Traceback" not in err
        assert [p.name for p in pool.rglob("*")] == ["dataset_cards"], path


def test_the_same_data_twice_is_refused(tmp_path: Path, capsys) -> None:
    source = make_source("parquet", tmp_path)
    assert add(capsys, source, tmp_path / "pool")[0] == 0
    code, _, err = add(capsys, source, tmp_path / "pool", "--name", "Again")
    assert code == 2 and "is already in the pool" in err
    assert len(list((tmp_path / "pool" / "dataset_cards").iterdir())) == 1


def test_records_that_the_pool_cannot_use_undo_the_add(tmp_path: Path, capsys) -> None:
    source = tmp_path / "pictures.jsonl"  # images named but absent
    source.write_text("".join(json.dumps({"question": f"What is in picture number {i}?",
                                          "answer": "cat", "image": f"img/{i}.png"}) + "\n"
                              for i in range(3)))
    pool = tmp_path / "pool"
    code = main(["pool", "add", str(source), "--pool", str(pool)])
    err = capsys.readouterr().err
    assert code == 2 and "none of its records is usable" in err and "img/0.png" in err
    assert list((pool / "dataset_cards").iterdir()) == []
    assert not any((pool / "datasets" / "imported").iterdir())
