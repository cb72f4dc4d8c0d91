"""The generator registry: lazy lookup by name, cards for the pool, the shared contract."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators import registry
from tools.generators.base import Instance, ParamError, RenderedItem
from tools.generators.registry import (
    GENERATORS,
    GeneratorUnavailable,
    available_generators,
    generator_cards,
    get_generator,
)

MINE = ("calendar", "proofs", "code_debugging", "ba_text")


def test_all_six_generators_are_registered_and_mine_are_available() -> None:
    assert set(GENERATORS) == {"calendar", "causal_physics", "proofs", "code_debugging",
                               "speech_dialogue", "ba_text"}
    for name in MINE:
        gen = get_generator(name)
        assert gen.name == name and gen is get_generator(name)
        assert gen.version and gen.params
    assert set(MINE) <= set(available_generators())


def test_unknown_generator_is_a_clear_error() -> None:
    with pytest.raises(GeneratorUnavailable, match="unknown generator 'sudoku'; known: ba_text, calendar"):
        get_generator("sudoku")


def test_a_missing_module_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GENERATORS, "not_written_yet", registry._factory("not_written_yet"))
    with pytest.raises(GeneratorUnavailable, match="cannot import tools.generators.not_written_yet"):
        get_generator("not_written_yet")
    assert "not_written_yet" not in available_generators()
    ids = [card["dataset_id"] for card in generator_cards()]
    assert {f"gen-{name}" for name in MINE} <= set(ids)
    assert "gen-not_written_yet" not in ids


def test_a_module_without_the_generator_class_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # `base` imports fine but defines no class named "base": the registry says so.
    monkeypatch.setitem(GENERATORS, "base", registry._factory("base"))
    with pytest.raises(GeneratorUnavailable, match="defines no class named 'base'"):
        get_generator("base")


def test_cards_are_valid_pool_cards() -> None:
    cards = generator_cards()
    assert [c["generator"] for c in cards] == available_generators()
    for raw in cards:
        card = parse_card(f"generator:{raw['generator']}", raw)
        assert isinstance(card, DatasetCard), card
        assert card.dataset_id == f"gen-{card.generator}" and card.size_samples > 0
        assert card.meta.fields and card.description and card.tasks
        # Every declared field path exists in a rendered item.
        assert all(spec.paths[0].split(".")[0] in RenderedItem.__struct_fields__
                   for spec in card.meta.fields.values())


@pytest.mark.parametrize("name", MINE)
def test_the_contract_agents_rely_on(name: str, tmp_path: Path) -> None:
    """Sample → verify → render; the item's metadata re-creates the same instance."""
    gen = get_generator(name)
    inst = gen.sample(101)
    assert isinstance(inst, Instance) and inst.generator == name and inst.seed == 101
    assert all(c.passed for c in gen.verify(inst))
    item = gen.render(inst, tmp_path)
    assert item.target and item.input
    for rel in item.media:
        assert not Path(rel).is_absolute() and (tmp_path / rel).is_file()
    meta = msgspec.json.decode(msgspec.json.encode(item.metadata))
    again = gen.sample(int(meta["seed"]), meta["params"])
    assert msgspec.json.encode(again) == msgspec.json.encode(inst)
    assert gen.score(inst, item.target).correct


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_refuses_an_unknown_render_mode_the_same_way(
    name: str, tmp_path: Path
) -> None:
    gen = get_generator(name)
    inst = gen.sample(0)
    with pytest.raises(ParamError, match=r"render mode 'poster' is not one of default, "):
        gen.render(inst, tmp_path, "poster")
    assert list(tmp_path.iterdir()) == []
