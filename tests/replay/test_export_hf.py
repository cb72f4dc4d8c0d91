"""`benchagent export --format hf`, loaded by the real `datasets` library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

datasets = pytest.importorskip("datasets")

from replay.anchor import Anchor  # noqa: E402
from replay.exports.facts import (  # noqa: E402
    EvaluationResult,
    JudgeRecord,
    RunFacts,
    SourceInfo,
    SubtaskInfo,
)
from replay.exports.hf import write  # noqa: E402
from replay.exports.items import media_kind  # noqa: E402


def card_header(folder: Path) -> dict:
    text = (folder / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def published_items(exported) -> dict[str, dict]:
    lines = (exported.published / "benchmark.jsonl").read_text().splitlines()
    return {item["id"]: item for item in map(json.loads, lines)}


def load(folder: Path, config: str, cache: Path):
    return datasets.load_dataset(str(folder), name=config, split="test", cache_dir=str(cache))


def test_every_config_loads_with_the_published_items(exported, tmp_path: Path) -> None:
    folder = exported.dirs["hf"]
    header = card_header(folder)
    items = published_items(exported)
    configs = [c["config_name"] for c in header["configs"]]
    subtasks = {item["subtask"] for item in items.values()}
    assert len(configs) == len(subtasks) >= 2
    seen: dict[str, dict] = {}
    for info in header["dataset_info"]:
        ds = load(folder, info["config_name"], tmp_path)
        # The card's YAML features are the ones datasets reads from the Parquet schema.
        assert datasets.Features._from_yaml_list(info["features"]) == ds.features
        assert info["splits"] == [{"name": "test", "num_bytes": info["splits"][0]["num_bytes"],
                                   "num_examples": len(ds)}]
        # Audio decodes with torchcodec (torch): not installed; media are checked below.
        text = ds.select_columns(["id", "subtask", "input", "choices", "target", "metadata"])
        assert len(set(text["subtask"])) == 1
        for row in text:
            item = items[row["id"]]
            assert (row["input"], row["choices"], row["target"]) == (
                item["input"], item["choices"], item["target"])
            assert json.loads(row["metadata"]) == item["metadata"]
            seen[row["id"]] = row
    assert seen.keys() == items.keys()
    # Without a name, the default (first) config loads.
    default = datasets.load_dataset(str(folder), split="test", cache_dir=str(tmp_path))
    assert default.num_rows == header["dataset_info"][0]["splits"][0]["num_examples"]


def test_images_and_audio_come_back_byte_identical(media_run, text_run, tmp_path: Path) -> None:
    checked = {"image": 0, "audio": 0}
    for run in (media_run, text_run):
        folder = run.dirs["hf"]
        for info in card_header(folder)["dataset_info"]:
            ds = load(folder, info["config_name"], tmp_path)
            for name in ds.features:
                kind = "image" if "image" in name else "audio" if "audio" in name else None
                if kind is None:
                    continue
                decoded = (datasets.Image if kind == "image" else datasets.Audio)(decode=False)
                cast = datasets.List(decoded) if name.endswith("s") else decoded
                rows = ds.cast_column(name, cast)
                for row in rows:
                    values = row[name] if name.endswith("s") else [row[name]]
                    names = [m for m in row["media"] if media_kind(m) == kind]
                    assert [v["path"] for v in values if v] == names
                    for value in filter(None, values):
                        assert value["bytes"] == (run.published / value["path"]).read_bytes()
                        checked[kind] += 1
    assert checked["image"] >= 8 and checked["audio"] >= 1, checked
    # Images decode as images too (the default for the Image feature).
    ds = load(media_run.dirs["hf"], "next_frame_prediction", tmp_path)
    frames = next(row["images"] for row in ds if row["images"])
    assert len(frames) == 8 and frames[0].size[0] > 0


def test_card_body_states_the_run(media_run) -> None:
    text = (media_run.dirs["hf"] / "README.md").read_text()
    header = card_header(media_run.dirs["hf"])
    head = next(e for e in media_run.events if e.type == "BenchmarkPublished")
    assert f"`{head.hash}`" in text and f"(event {head.seq})" in text
    assert media_run.events[0].payload.requirement in text
    for subtask in ("Next frame prediction", "Spoken dialogue understanding"):
        assert subtask in text
    # Generators' cards name no licence: unknown, and said why, never guessed.
    assert header["license"] == "unknown"
    assert "its dataset card names no licence" in text
    assert "gen-causal_physics" in text and "gen-speech_dialogue" in text
    scored = [e.payload for e in media_run.events if e.type == "EvaluationScored"]
    assert scored and f"| `{scored[0].model}` | {scored[0].n} | {scored[0].accuracy:.3f} |" in text
    assert "Not judged" in text
    assert header["size_categories"] == ["n<1K"]
    assert {"visual-question-answering", "audio-text-to-text"} <= set(header["task_categories"])


def facts(**changes) -> RunFacts:
    base = RunFacts(
        run_id="r", requirement="Can a model find causes?", seed=1, size=2, llm="scripted:x",
        disabled=[], accepted=2, rejected=0, anchor=Anchor(run_id="r", content_hash="c" * 64, head_hash="h" * 64, head_seq=9),
        subtasks=[SubtaskInfo(name="cause", answer_format="multiple_choice", items=2)],
        sources=[SourceInfo(dataset_id="a", name="A", origin="file:a.json", license="mit",
                            license_note="from its dataset card", items=1),
                 SourceInfo(dataset_id="b", name="B", origin="file:b.json", license="cc-by-4.0",
                            license_note="from its dataset card", items=1)])
    return RunFacts(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **changes})


FILES = {"benchmark.jsonl": b"".join(
    json.dumps({"id": f"i{n}", "subtask": "cause", "input": f"Why {n}?", "choices": ["x", "y"],
                "target": "A", "media": [], "metadata": {"source_dataset": "ab"[n]}}).encode()
    + b"\n" for n in range(2))}


def test_mixed_licences_are_listed_and_judge_results_rendered() -> None:
    judged = facts(judgements=[
        JudgeRecord(type="BenchmarkJudged", payload={"judge": "local:x", "mean_quality": 0.8}),
        JudgeRecord(type="ItemJudged", payload={"sample_id": "i0", "score": 1}),
    ], evaluations=[EvaluationResult(model="m", accuracy=0.5, per_subtask={"cause": 0.5}, n=2)])
    out = write(FILES, judged)
    text = out["README.md"].decode()
    assert yaml.safe_load(text.split("---\n")[1])["license"] == ["cc-by-4.0", "mit"]
    assert "BenchmarkJudged: judge local:x, mean_quality 0.8" in text
    assert "1 item judgement(s)" in text and "Not judged" not in text
    assert "| `m` | 2 | 0.500 | 0.500 |" in text
    unknown = facts(sources=[*facts().sources, SourceInfo(
        dataset_id="c", name="C", origin="", license="unknown", items=0,
        license_note="its card is not in the run's pool any more")])
    text = write(FILES, unknown)["README.md"].decode()
    assert yaml.safe_load(text.split("---\n")[1])["license"] == ["cc-by-4.0", "mit", "unknown"]
    assert "unknown (its card is not in the run's pool any more)" in text


def test_same_log_same_bytes(media_run, tmp_path: Path) -> None:
    from export_runs import export

    again = tmp_path / "again"
    assert export(media_run.home, "media", again, "hf") == 0
    first = sorted(p.relative_to(media_run.dirs["hf"]) for p in media_run.dirs["hf"].rglob("*")
                   if p.is_file())
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in first:
        assert (again / rel).read_bytes() == (media_run.dirs["hf"] / rel).read_bytes(), rel
