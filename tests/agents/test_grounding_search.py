"""Grounding's dataset search: BM25 ranked, filtered on modality, widened after a failed round."""

from __future__ import annotations

from pathlib import Path

from agents.grounding import search_candidates
from agents.relevance import named_modalities
from tools.pool import Pool


def test_search_filters_then_widens_by_round(general_bench: Path) -> None:
    pool = Pool.load([general_bench], include_generators=False)
    query = "cause and effect of everyday events"
    first, how = search_candidates(pool, query, ["image"], 2, 1)
    assert len(first) == 2 and all("image" in c.modalities for c, _ in first)
    assert how == "bm25 filtered on image"
    second, how = search_candidates(pool, query, ["image"], 2, 2)
    assert [c.dataset_id for c, _ in second[:2]] == [c.dataset_id for c, _ in first]
    assert len(second) == 3 and "image" not in second[2][0].modalities
    assert second[2][0].name in ("Causal-Reasoning", "Document-Level-Causal-Reasoning")
    assert "widened by 1" in how
    nothing, how = search_candidates(pool, query, ["video"], 2, 1)
    assert len(nothing) == 2 and "unfiltered" in how
    assert {c.name for c, _ in nothing} <= {"Causal-Reasoning", "Document-Level-Causal-Reasoning",
                                           "Temporal-Event-Reasoning", "Ethical-Reasoning"}


def test_a_medium_the_requirement_does_not_name_is_not_preferred() -> None:
    # The 1.5B preferred text+image for a text requirement; a maths-in-pictures dataset won.
    when = "I want to evaluate when everyday events happen and how long they last"
    assert named_modalities(["text", "image"], when) == ["text"]
    assert named_modalities(["image"], when) == ["text"]
    physics = "predict from images how objects in a 2D physics scene move next"
    assert named_modalities(["image", "text"], physics) == ["image", "text"]
    assert named_modalities(["audio", "video"], "transcribe spoken instructions") == ["audio"]
