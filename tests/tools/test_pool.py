"""The dataset pool over the real General-Bench subset: cards, items, media, search, CLI."""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from benchagent.cli import main as cli_main
from tools.cards import DatasetCard, parse_card
from tools.pool import Pool, PoolError, resolve_path

IMAGE_DATASETS = {"076fdf72", "5f3dbd05", "6f1bd1c5", "9155fd9c", "91f29c38", "a538c57a"}


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return Pool.load([general_bench], include_generators=False)


def _card(general_bench: Path, dataset_id: str) -> dict[str, Any]:
    return json.loads((general_bench / "dataset_cards" / f"{dataset_id}_card.json").read_text())


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # cheap, and a hard link is a file of this folder, not a symlink out
    except OSError:
        shutil.copy2(src, dst)


@pytest.fixture
def tmp_pool(general_bench: Path, tmp_path: Path) -> Path:
    """A pool in tmp: the real cards, the real datasets (hard links), room for bad cards."""
    root = tmp_path / "data"
    shutil.copytree(general_bench / "dataset_cards", root / "dataset_cards")
    shutil.copytree(general_bench / "datasets", root / "datasets", copy_function=_link_or_copy)
    return root


# --------------------------------------------------------------- loading


def test_loads_all_sixteen_datasets_with_their_capacity(pool: Pool) -> None:
    assert pool.problems == []
    assert len(pool.datasets) == 16
    assert sum("image" in c.modalities for c in pool.datasets) == 6
    for card in pool.datasets:
        assert card.generator is None and card.source.startswith("file:data/datasets/")
        assert pool.capacity(card.dataset_id) == card.size_samples  # every record usable here
        assert pool.unusable(card.dataset_id) == []


def test_items_are_resolved_by_role_in_file_order(pool: Pool) -> None:
    causal = pool.items("7fb63e11")
    assert [i.index for i in causal] == list(range(200))
    assert len({i.id for i in causal}) == 200
    first = causal[0]
    raw = json.loads(pool.source_file("7fb63e11").read_text())["data"][0]
    assert first.id == raw["id"] and first.record == raw
    assert first.fields["question"] == raw["input"]["question"]
    assert first.fields["options"] == raw["input"]["options"]
    assert first.fields["answer"] == raw["output"]["answer"]
    assert pool.items("7fb63e11") == causal  # stable, cached

    # Both paths of a two-path role, in card order.
    lung = pool.items("a538c57a")[0]
    assert lung.values["question"] == [lung.record["input"]["question"],
                                       lung.record["input"]["prompt"]]
    # A nested dict path and a top-level list field.
    bird = pool.items("6f1bd1c5")[0]
    assert bird.fields["answer"] == bird.record["output"]["text"]["bird"]
    dialog = pool.items("f219959e")[0]
    assert isinstance(dialog.fields["dialog"], list) and dialog.fields["dialog"]


def test_every_image_of_the_six_image_datasets_resolves(pool: Pool) -> None:
    image_ids = {c.dataset_id for c in pool.datasets if "image" in c.modalities}
    assert image_ids == IMAGE_DATASETS
    for dataset_id in image_ids:
        items = pool.items(dataset_id)
        assert len(items) == pool.card(dataset_id).size_samples
        for item in items:
            files = item.media["image"]
            assert len(files) == 1 and Path(files[0]).is_file()
            assert Path(files[0]).name == Path(item.fields["image"]).name
    # The layouts differ: beside the json, in images/ beside it, or one level up.
    car = Path(pool.items("076fdf72")[0].media["image"][0])
    assert car.parent.name == "images" and car.parent.parent.name == "car_brands_recognition"


def test_resolve_path_handles_dicts_lists_and_missing_fields() -> None:
    from tools.pool import _MISSING

    record = {"input": {"q": "x", "opts": ["a", "b"], "items": [{"n": 1}, {"n": 2}, {}]}}
    assert resolve_path(record, "input.q") == "x"
    assert resolve_path(record, "input.opts.1") == "b"
    assert resolve_path(record, "input.items.n") == [1, 2]
    assert resolve_path(record, "input.nope") is _MISSING
    assert resolve_path(record, "input.opts.9") is _MISSING
    assert resolve_path(record, "input.q.deeper") is _MISSING


# ---------------------------------------------------------------- search


def test_causal_query_ranks_the_causal_datasets_on_top(pool: Pool) -> None:
    hits = pool.search("reasoning about cause and effect: which event caused which", k=5)
    assert {c.name for c, _ in hits[:2]} == {"Causal-Reasoning", "Document-Level-Causal-Reasoning"}
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_car_brand_query_ranks_car_brands_first(pool: Pool) -> None:
    hits = pool.search("identify the manufacturer brand of a car from a photo", k=3)
    assert hits[0][0].name == "Car Brands Recognition"
    assert hits[0][1] > 2 * hits[1][1]  # a clear winner, not a coin toss


def test_search_is_ranked_not_substring_matching(pool: Pool) -> None:
    # No card contains this phrase verbatim; stemming and BM25 still find the medical one.
    hits = pool.search("diagnosing malignant tumours in radiology scans", k=3)
    assert hits[0][0].name == "Lung Nodule Diagnosis Vqa"
    assert pool.search("zzzz qqqq", k=3) == []


def test_search_filters_by_modality(pool: Pool) -> None:
    hits = pool.search("question answering", k=16, modality=["image"])
    assert hits and {c.dataset_id for c, _ in hits} <= IMAGE_DATASETS
    text_hits = pool.search("question answering", k=16, modality=["text"])
    assert len(text_hits) > len(hits)


def test_search_ties_break_by_dataset_id(general_bench: Path) -> None:
    base = {"name": "Twin", "modalities": ["text"], "size_samples": 1,
            "description": "identical twins", "raw_meta": {"source_json": "x.json"}}
    cards = [parse_card(f"{i}.json", {**base, "dataset_id": i}) for i in ("b2", "a1", "c3")]
    assert all(isinstance(c, DatasetCard) for c in cards)
    pool = Pool([], [])
    from tools.pool_search import CardIndex

    pool._index = CardIndex(cards)  # type: ignore[arg-type]
    hits = pool.search("twin", k=3)
    assert [c.dataset_id for c, _ in hits] == ["a1", "b2", "c3"]
    assert len({s for _, s in hits}) == 1


# ------------------------------------------------------------ bad input


def test_malformed_cards_are_reported_by_file_and_field(tmp_pool: Path, general_bench: Path) -> None:
    cards = tmp_pool / "dataset_cards"
    bad_size = _card(general_bench, "7fb63e11") | {"dataset_id": "bad1", "size_samples": "many"}
    (cards / "bad1_card.json").write_text(json.dumps(bad_size))
    no_name = _card(general_bench, "7fb63e11") | {"dataset_id": "bad2"}
    del no_name["name"]
    (cards / "bad2_card.json").write_text(json.dumps(no_name))
    bad_role = _card(general_bench, "7fb63e11") | {"dataset_id": "bad3"}
    bad_role["meta"]["fields"]["answer"]["paths"] = "output.answer"
    (cards / "bad3_card.json").write_text(json.dumps(bad_role))
    (cards / "bad4_card.json").write_text('{"dataset_id": "bad4", ')
    missing_file = _card(general_bench, "7fb63e11") | {"dataset_id": "bad5"}
    missing_file["raw_meta"]["source_json"] = "data/datasets/nlp/Nope/annotation.json"
    (cards / "bad5_card.json").write_text(json.dumps(missing_file))
    (cards / "dup_card.json").write_text(json.dumps(_card(general_bench, "7fb63e11")))

    pool = Pool.load([tmp_pool], include_generators=False)
    problems = sorted(str(p) for p in pool.problems)
    assert problems == [
        "dataset_cards/bad1_card.json: field 'size_samples': expected int, got str",
        "dataset_cards/bad2_card.json: field 'name': missing (required)",
        "dataset_cards/bad3_card.json: field 'meta.fields.answer.paths': expected array, got str",
        problems[3],
        "dataset_cards/bad5_card.json: field 'raw_meta.source_json': dataset file "
        "'data/datasets/nlp/Nope/annotation.json' not found",
        "dataset_cards/dup_card.json: field 'dataset_id': duplicate dataset id '7fb63e11' "
        "(already in dataset_cards/7fb63e11_card.json)",
    ]
    assert problems[3].startswith("dataset_cards/bad4_card.json: not valid JSON")
    assert len(pool.datasets) == 16 and len(pool.items("7fb63e11")) == 200  # the rest is usable


def test_a_card_pointing_outside_the_pool_is_a_problem_not_a_dataset(
        tmp_pool: Path, general_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cards = tmp_pool / "dataset_cards"
    secret = tmp_path / "secret.json"  # a readable dataset file, but not in the pool
    secret.write_text(json.dumps({"data": [{"id": "1", "input": {"question": "q"}}]}))
    (tmp_pool / "datasets" / "link.json").symlink_to(secret)
    escapes = {
        "up": "../../../../../../etc/passwd",
        "abs": "/etc/passwd",
        "outside": str(secret),
        "via-link": "data/datasets/link.json",
    }
    for name, source in escapes.items():
        card = _card(general_bench, "7fb63e11") | {"dataset_id": name}
        card["raw_meta"]["source_json"] = source
        (cards / f"{name}_card.json").write_text(json.dumps(card))

    pool = Pool.load([tmp_pool], include_generators=False)
    ids = {c.dataset_id for c in pool.datasets}
    assert not ids & set(escapes) and len(ids) == 16
    problems = {p.file: p for p in pool.problems}
    for name, source in escapes.items():
        problem = problems[f"dataset_cards/{name}_card.json"]
        assert problem.field == "raw_meta.source_json"
        assert f"dataset file {source!r} resolves to" in problem.message
        assert f"outside the pool {tmp_pool.resolve()}" in problem.message

    capsys.readouterr()  # what the direct load above logged
    assert cli_main(["pool", "list", "--pool", str(tmp_pool), "--no-generators", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {d["dataset_id"] for d in doc["datasets"]} == ids
    assert {p["file"] for p in doc["problems"]} == {f"dataset_cards/{n}_card.json" for n in escapes}
    assert all(p["field"] == "raw_meta.source_json" for p in doc["problems"])


def test_media_a_record_names_must_resolve_inside_the_pool(tmp_path: Path,
                                                           general_bench: Path) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "photo.png").write_bytes(b"\x89PNG private")
    root = tmp_path / "pool"
    (root / "dataset_cards").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "images" / "a.png").write_bytes(b"\x89PNG")
    (root / "images" / "b.png").symlink_to(outside / "photo.png")  # a link leading out
    (root / "images" / "c.png").symlink_to(root / "images" / "a.png")  # a link staying in
    records = [{"id": i, "input": {"image_file": f, "prompt": "p"}, "output": {"prediction": "X"}}
               for i, f in (("in", "a.png"), ("link-out", "b.png"), ("link-in", "c.png"),
                            ("dots", "../../private/photo.png"))]
    (root / "set.json").write_text(json.dumps({"data": records}))
    card = _card(general_bench, "076fdf72") | {"dataset_id": "set"}
    card["raw_meta"]["source_json"] = "set.json"
    (root / "dataset_cards" / "set_card.json").write_text(json.dumps(card))
    pool = Pool.load([root], include_generators=False)
    assert [i.id for i in pool.items("set")] == ["in", "link-in"]
    assert all(Path(m).is_relative_to(root.resolve())
               for i in pool.items("set") for paths in i.media.values() for m in paths)
    reasons = {u.id: u.reason for u in pool.unusable("set")}
    assert set(reasons) == {"link-out", "dots"}
    assert "media file 'b.png' not found" in reasons["link-out"] and "inside the pool" in reasons["link-out"]


def test_missing_pool_and_missing_cards_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match=r"^pool directory .*/nope does not exist$"):
        Pool.load([tmp_path / "nope"])
    with pytest.raises(PoolError, match="has no dataset_cards/ folder"):
        Pool.load([tmp_path])


def test_malformed_dataset_file_names_the_file(tmp_path: Path, general_bench: Path) -> None:
    root = tmp_path / "pool"
    (root / "dataset_cards").mkdir(parents=True)
    (root / "broken.json").write_text('{"data": [{"id": 1,')
    (root / "nolist.json").write_text('{"task": "x", "data": {}}')
    for name, source in (("broken", "broken.json"), ("nolist", "nolist.json")):
        card = _card(general_bench, "7fb63e11") | {"dataset_id": name}
        card["raw_meta"]["source_json"] = source
        (root / "dataset_cards" / f"{name}_card.json").write_text(json.dumps(card))
    pool = Pool.load([root], include_generators=False)
    with pytest.raises(PoolError, match=r"dataset file .*broken\.json is not valid JSON"):
        pool.items("broken")
    with pytest.raises(PoolError, match=r"dataset file .*nolist\.json has no 'data' list"):
        pool.capacity("nolist")
    with pytest.raises(PoolError, match="unknown dataset id 'nope'"):
        pool.card("nope")


def test_unusable_records_are_left_out_with_a_reason(tmp_path: Path, general_bench: Path) -> None:
    root = tmp_path / "pool"
    (root / "dataset_cards").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "images" / "a.png").write_bytes(b"\x89PNG")
    records = [
        {"id": "ok", "input": {"image_file": "a.png", "prompt": "p"}, "output": {"prediction": "X"}},
        {"id": "noimg", "input": {"image_file": "zz.png", "prompt": "p"}, "output": {"prediction": "X"}},
        {"id": "escape", "input": {"image_file": "../../etc/passwd", "prompt": "p"},
         "output": {"prediction": "X"}},
        {"id": "noanswer", "input": {"image_file": "a.png", "prompt": "p"}, "output": {}},
        {"id": "ok", "input": {"image_file": "a.png", "prompt": "p"}, "output": {"prediction": "Y"}},
        "not a record",
    ]
    (root / "set.json").write_text(json.dumps({"data": records}))
    card = _card(general_bench, "076fdf72") | {"dataset_id": "set"}
    card["raw_meta"]["source_json"] = "set.json"
    (root / "dataset_cards" / "set_card.json").write_text(json.dumps(card))
    pool = Pool.load([root], include_generators=False)
    assert [i.id for i in pool.items("set")] == ["ok"] and pool.capacity("set") == 1
    reasons = {u.id: u.reason for u in pool.unusable("set")}
    assert "media file 'zz.png' not found" in reasons["noimg"]
    assert "media file '../../etc/passwd' not found" in reasons["escape"]
    assert "role 'answer': no value at output.prediction" == reasons["noanswer"]
    assert reasons["ok"] == "duplicate id 'ok'"
    assert reasons["5"] == "record is a str, not an object"


def test_generator_cards_join_the_pool(monkeypatch: pytest.MonkeyPatch, general_bench: Path) -> None:
    module = types.ModuleType("tools.generators.registry")
    module.generator_cards = lambda: [  # type: ignore[attr-defined]
        {"dataset_id": "gen-calendar", "name": "Calendar scheduling", "generator": "calendar",
         "modalities": ["text"], "size_samples": 100000, "tasks": ["constraint_satisfaction"],
         "description": "Meeting scheduling problems under calendar constraints."},
        {"dataset_id": "gen-bad", "name": "Bad", "modalities": ["text"], "size_samples": 5,
         "description": "a generator card that forgot its generator"},
    ]
    monkeypatch.setitem(sys.modules, "tools.generators.registry", module)
    pool = Pool.load([general_bench])
    gen = pool.card("gen-calendar")
    assert gen.source == "generator:calendar" and pool.capacity("gen-calendar") == 100000
    assert [str(p) for p in pool.problems] == ["generator:gen-bad: field 'generator': missing (required)"]
    assert pool.search("schedule a meeting on a calendar", k=1)[0][0].dataset_id == "gen-calendar"
    with pytest.raises(PoolError, match="is the generator 'calendar'"):
        pool.items("gen-calendar")
    assert len(pool.datasets) == 17


# -------------------------------------------------------------------- CLI


def test_pool_list_shows_a_table_and_the_problems(tmp_pool: Path, capsys: pytest.CaptureFixture
                                                  ) -> None:
    (tmp_pool / "dataset_cards" / "bad_card.json").write_text(json.dumps(
        {"dataset_id": "bad", "name": "Bad", "modalities": ["text"], "size_samples": "x",
         "description": "d", "raw_meta": {"source_json": "x"}}))
    assert cli_main(["pool", "list", "--pool", str(tmp_pool), "--no-generators"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["dataset", "name", "modalities", "size", "source"]
    assert any(line.startswith("7fb63e11  Causal-Reasoning") for line in lines)
    assert sum(1 for line in lines if "file:data/datasets/" in line) == 16
    assert out.rstrip().endswith(
        "dataset_cards/bad_card.json: field 'size_samples': expected int, got str")


def test_pool_list_json(general_bench: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["pool", "list", "--pool", str(general_bench), "--no-generators",
                     "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["datasets"]) == 16 and doc["problems"] == []
    car = next(d for d in doc["datasets"] if d["dataset_id"] == "076fdf72")
    assert car == {"dataset_id": "076fdf72", "name": "Car Brands Recognition",
                   "modalities": ["image", "text"], "size": 192,
                   "source": "file:data/datasets/image/car_brands_recognition/json/annotation.json"}


def test_pool_list_missing_pool_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture
                                                   ) -> None:
    assert cli_main(["pool", "list", "--pool", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"benchagent: error: pool directory {tmp_path / 'absent'} does not exist"]
