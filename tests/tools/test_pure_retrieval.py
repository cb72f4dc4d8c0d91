"""Offline BM25 retrieval over a local corpus: relevance, deterministic ties, confinement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.pure.retrieval import BM25Index, Document, snippet
from tools.registry import ToolArgumentError, ToolResult, load_builtin_tools
from tools.workspace import Workspace

REGISTRY = load_builtin_tools()

ARTICLES = {
    "astronomy.txt": "Jupiter is the largest planet. Its moons include Europa and Ganymede.",
    "cooking.txt": "Bake the bread at a high temperature until the crust is golden.",
    "gardening.md": "Tomatoes need sun. Water the tomato plants every morning.\n\n"
    "Roses prefer rich soil and pruning in early spring.",
    "sub/physics.txt": "Planets orbit the sun because of gravity; Jupiter's gravity is strong.",
}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    for name, text in ARTICLES.items():
        workspace.write_text(f"corpus/{name}", text)
    workspace.write_text("corpus/ignored.bin", "jupiter jupiter jupiter")
    return workspace


def search(ws: Workspace, **args: Any) -> ToolResult:
    return REGISTRY.run("retrieval_search", args, ws, seed=0)


def test_most_relevant_document_first(ws: Workspace) -> None:
    result = search(ws, corpus="corpus", query="Jupiter moons Europa", k=5)
    hits = result.values["hits"]
    assert result.values["documents"] == 4  # .bin is not a corpus file
    assert hits[0]["doc_id"] == "corpus/astronomy.txt"
    assert hits[1]["doc_id"] == "corpus/sub/physics.txt"
    assert len(hits) == 2  # documents sharing no term are not returned
    assert hits[0]["score"] > hits[1]["score"] > 0
    assert [h["rank"] for h in hits] == [1, 2]
    assert "Europa" in hits[0]["snippet"] and hits[0]["title"] == "astronomy"


def test_k_limits_hits(ws: Workspace) -> None:
    assert len(search(ws, corpus="corpus", query="sun jupiter tomatoes bread", k=1)
               .values["hits"]) == 1


def test_paragraph_units(ws: Workspace) -> None:
    hits = search(ws, corpus="corpus/gardening.md", query="roses pruning", unit="paragraph")
    assert hits.values["documents"] == 2
    assert hits.values["hits"][0]["doc_id"] == "corpus/gardening.md#1"


def test_ties_are_broken_by_doc_id_whatever_the_index_order() -> None:
    same = "identical text about comets"
    docs = [Document(doc_id=i, text=same) for i in ("c", "a", "b")]
    docs.append(Document(doc_id="z", text="comets comets comets and more comets"))
    for ordering in (docs, list(reversed(docs))):
        hits = BM25Index.build(ordering).search("comets", k=10)
        assert [h.doc_id for h in hits] == ["z", "a", "b", "c"]
        assert hits[1].score == hits[2].score == hits[3].score


def test_jsonl_records_with_fields(ws: Workspace) -> None:
    rows = [
        {"id": 7, "meta": {"title": "Volcanoes"}, "body": "Lava flows from an active volcano."},
        {"id": 8, "meta": {"title": "Glaciers"}, "body": "Ice sheets move slowly downhill."},
    ]
    ws.write_text("kb.jsonl", "\n".join(json.dumps(r) for r in rows))
    result = search(ws, corpus="kb.jsonl", query="lava volcano", text_fields=["body"],
                    title_field="meta.title", output="hits.json")
    (hit,) = result.values["hits"]
    assert hit["doc_id"] == "7" and hit["title"] == "Volcanoes" and hit["source"] == "kb.jsonl"
    assert json.loads(ws.read_text("hits.json")) == result.values["hits"]
    assert result.files["hits_file"].path == "hits.json"


def test_index_cache_follows_file_content(ws: Workspace) -> None:
    assert search(ws, corpus="corpus", query="saturn").values["hits"] == []
    ws.write_text("corpus/cooking.txt", "Saturn has rings.")
    hits = search(ws, corpus="corpus", query="saturn").values["hits"]
    assert [h["doc_id"] for h in hits] == ["corpus/cooking.txt"]


def test_same_query_same_output_bytes(ws: Workspace) -> None:
    a = search(ws, corpus="corpus", query="sun gravity planets", output="a.json")
    b = search(ws, corpus="corpus", query="sun gravity planets", output="b.json")
    assert a.files["hits_file"].sha256 == b.files["hits_file"].sha256
    assert a.values == b.values


def test_snippet_window_centres_on_query_terms() -> None:
    text = ("filler " * 100) + "the hidden treasure is here " + ("filler " * 100)
    piece = snippet(text, {"treasure", "hidden"}, 60)
    assert "hidden treasure" in piece and len(piece) <= 62
    assert piece.startswith("…") and piece.endswith("…")


def test_query_without_indexable_terms_returns_nothing(ws: Workspace) -> None:
    assert search(ws, corpus="corpus", query="the and of").values["hits"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"corpus": "../outside"}, "'..'"),
        ({"corpus": "/etc"}, "absolute"),
        ({"corpus": "nothing-here"}, "does not exist"),
        ({"corpus": "corpus", "k": 0}, "less than the minimum of 1"),
        ({"corpus": "corpus", "query": ""}, "should be non-empty"),
        ({"corpus": "web:pages"}, "not mounted"),
    ],
)
def test_retrieval_argument_errors(ws: Workspace, args: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message):
        search(ws, **{"query": "jupiter", **args})


def test_duplicate_ids_are_refused(ws: Workspace) -> None:
    ws.write_text("dup.jsonl", '{"id": 1, "text": "a b"}\n{"id": 1, "text": "c d"}\n')
    with pytest.raises(ToolArgumentError, match="duplicate document id '1'"):
        search(ws, corpus="dup.jsonl", query="cd")


def test_symlink_out_of_the_corpus_is_not_indexed(ws: Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("classified jupiter plans")
    (ws.root / "corpus" / "leak.txt").symlink_to(secret)
    result = search(ws, corpus="corpus", query="classified")
    assert result.values["hits"] == [] and result.values["documents"] == 4


def test_search_general_bench_records(tmp_path: Path, general_bench: Path) -> None:
    ws = Workspace(tmp_path / "ws", sources={"gb": general_bench / "datasets"})
    result = search(ws, corpus="gb:nlp", query="needle exchange HIV", k=3,
                    text_fields=["input.question", "input.context", "input.raw_text"])
    hits = result.values["hits"]
    assert len(hits) == 3
    assert all(h["source"].startswith("gb:nlp/") for h in hits)
    assert "needle" in hits[0]["snippet"].lower() or "hiv" in hits[0]["snippet"].lower()
