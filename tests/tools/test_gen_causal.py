"""BA-Causal generator: real pymunk simulations, real PNG rendering, planted bad instances."""

from __future__ import annotations

import copy
import hashlib
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from PIL import Image

from tools.cards import DatasetCard, parse_card
from tools.generators import causal_physics as cp
from tools.generators import causal_render
from tools.generators.base import Instance, ParamError

GEN = cp.CausalPhysicsGenerator()
REPO = Path(__file__).resolve().parents[2]


def checks(instance: Instance) -> dict[str, bool]:
    return {c.check: c.passed for c in GEN.verify(instance)}


def tampered(instance: Instance, **changes: object) -> Instance:
    """A copy with content keys (or answer/complexity/params) replaced."""
    content = copy.deepcopy(instance.content)
    fields = {}
    for key, value in changes.items():
        if key in ("answer", "complexity", "params"):
            fields[key] = value
        else:
            content[key] = value
    return msgspec.structs.replace(instance, content=content, **fields)


@pytest.fixture(scope="module")
def instances() -> list[Instance]:
    return [GEN.sample(seed) for seed in range(12)]


def test_same_seed_same_instance_and_same_bytes(tmp_path) -> None:
    a, b = GEN.sample(5), cp.CausalPhysicsGenerator().sample(5)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert GEN.sample(6) != a
    first = GEN.render(a, tmp_path / "one")
    second = GEN.render(b, tmp_path / "two")
    assert first.media == second.media and len(first.media) == 8
    for ref in first.media:
        assert (tmp_path / "one" / ref).read_bytes() == (tmp_path / "two" / ref).read_bytes()
    assert GEN.render(a, tmp_path, "text").input == GEN.render(b, tmp_path, "text").input


def test_generated_instances_pass_every_check(instances: list[Instance]) -> None:
    for instance in instances:
        results = GEN.verify(instance)
        assert {r.check for r in results} == {"consistency", "answer", "feasibility", "complexity"}
        assert all(r.passed for r in results), (instance.seed, results)
        assert instance.complexity < 0.99
        c = instance.content
        assert len(c["trajectory"]) == cp.STEPS + 1
        assert c["option_frames"][cp.LETTERS.index(instance.answer)] == c["input_frames"][-1] + 1
    # Letters are shuffled, not always the same.
    assert len({i.answer for i in instances}) > 1


def test_scene_parameters_stay_in_the_appendix_ranges(instances: list[Instance]) -> None:
    for instance in instances:
        scene = instance.content["scene"]
        gx, gy = scene["gravity"]
        assert -5 <= gx <= 5 and -10 <= gy <= 0
        assert 0 <= scene["wall_friction"] <= 1 and 0 <= scene["wall_elasticity"] <= 1
        assert 2 <= len(scene["objects"]) <= 10
        for obj in scene["objects"]:
            assert obj["type"] in cp.SHAPES and obj["color"] in cp.COLORS
            low, high = cp.CIRCLE_RADIUS if obj["type"] == "circle" else cp.SIDE
            assert all(low <= s <= high for s in obj["size"])
            assert 1 <= obj["mass"] <= 10
            assert 0 <= obj["friction"] <= 1 and 0 <= obj["elasticity"] <= 1
            assert all(-100 <= v <= 100 for v in obj["velocity"])


def test_inputs_show_a_collision(instances: list[Instance]) -> None:
    for instance in instances:
        first = instance.content["input_frames"][0]
        collision = instance.content["collision"]
        assert first < collision["frame"] <= first + 3
        assert collision in instance.content["collisions"]


def test_parameters_shape_the_scene() -> None:
    only = GEN.sample(3, {"shapes": "triangle", "min_objects": 4, "max_objects": 4})
    objects = only.content["scene"]["objects"]
    assert len(objects) == 4 and {o["type"] for o in objects} == {"triangle"}
    flat = GEN.sample(3, {"gravity_x_max": 0.0, "gravity_y_max": 0.0})
    assert flat.content["scene"]["gravity"] == [0.0, 0.0]


def test_instances_at_the_complexity_limit_are_resampled() -> None:
    limit = 0.9
    for seed in range(8):
        instance = GEN.sample(seed, {"max_complexity": limit})
        assert instance.complexity < limit
        assert all(c.passed for c in GEN.verify(instance))
        # Every earlier attempt (same derived seeds) was dropped for a reason.
        for attempt in range(instance.content["attempt"]):
            rng = random.Random(cp.derived_seed(GEN.name, seed, attempt))
            scene = cp.sample_scene(rng, instance.params)
            trajectory, collisions = cp.simulate(scene)
            steps = cp.select_steps(rng, trajectory, collisions)
            if steps is not None and len(scene["objects"]) >= instance.params["min_objects"]:
                distractors = [f for f in steps["option_frames"] if f != steps["answer_frame"]]
                assert cp.complexity_of(trajectory, steps["answer_frame"], distractors) >= limit


# ------------------------------------------------------------ planted bad instances


def test_consistency_catches_a_tampered_trajectory(instances: list[Instance]) -> None:
    instance = instances[0]
    trajectory = copy.deepcopy(instance.content["trajectory"])
    trajectory[instance.content["answer_frame"]][0][0] += 40.0
    assert checks(tampered(instance, trajectory=trajectory))["consistency"] is False
    scene = copy.deepcopy(instance.content["scene"])
    scene["gravity"] = [scene["gravity"][0], scene["gravity"][1] - 3.0]
    assert checks(tampered(instance, scene=scene))["consistency"] is False


def test_answer_check_catches_a_wrong_letter_or_layout(instances: list[Instance]) -> None:
    instance = instances[1]
    wrong = next(letter for letter in cp.LETTERS if letter != instance.answer)
    assert checks(tampered(instance, answer=wrong))["answer"] is False
    options = list(instance.content["option_frames"])
    distractor_slot = next(
        i for i, f in enumerate(options) if f != instance.content["answer_frame"]
    )
    options[distractor_slot] = instance.content["input_frames"][2]  # an input as an option
    assert checks(tampered(instance, option_frames=options))["answer"] is False


def test_feasibility_catches_inputs_without_a_collision() -> None:
    for seed in range(40):
        instance = GEN.sample(seed)
        collisions = instance.content["collisions"]
        quiet = [
            f for f in range(0, cp.STEPS - 4)
            if not any(f < c["frame"] <= f + 3 for c in collisions)
        ]  # fmt: skip
        if quiet:
            break
    else:
        pytest.fail("no trajectory with a collision-free window in 40 seeds")
    first = quiet[0]
    answer = first + 4
    pool = [f for f in range(cp.STEPS + 1) if f < first or f > answer + 1][:3]
    bad = tampered(
        instance,
        input_frames=[first, first + 1, first + 2, first + 3],
        answer_frame=answer,
        option_frames=[answer, *pool],
        answer="A",
    )
    assert checks(bad)["feasibility"] is False


def test_complexity_catches_a_near_duplicate_distractor() -> None:
    """The frame right after t5 usually looks like t5: planted as a distractor, it must
    push the complexity to the limit and fail the check."""
    for seed in range(60):
        instance = GEN.sample(seed)
        c = instance.content
        twin = c["answer_frame"] + 1
        if twin > cp.STEPS:
            continue
        options = list(c["option_frames"])
        slot = next(i for i, f in enumerate(options) if f != c["answer_frame"])
        options[slot] = twin
        distractors = [f for f in options if f != c["answer_frame"]]
        measured = cp.complexity_of(c["trajectory"], c["answer_frame"], distractors)
        if measured >= 0.99:
            bad = tampered(instance, option_frames=options, complexity=round(measured, 6))
            assert checks(bad)["complexity"] is False
            break
    else:
        pytest.fail("no near-duplicate distractor found in 60 seeds")
    # A misreported complexity is caught too.
    assert checks(tampered(instance, complexity=instance.complexity - 0.05))["complexity"] is False


# ------------------------------------------------------------------------ scoring


@pytest.mark.parametrize(
    ("response", "correct"),
    [
        ("Changes: the red circle falls onto the square. Answer: {right}", True),
        ("answer: ({right_lower})", True),
        ("{right}", True),
        ("Option {right}.", True),
        ("Answer: {wrong}", False),
        ("Answer: {wrong} ... on reflection, Answer: {right}", True),
        ("I cannot tell.", False),
        ("", False),
    ],
)
def test_score(instances: list[Instance], response: str, correct: bool) -> None:
    instance = instances[2]
    wrong = next(letter for letter in cp.LETTERS if letter != instance.answer)
    text = response.format(right=instance.answer, right_lower=instance.answer.lower(), wrong=wrong)
    score = GEN.score(instance, text)
    assert score.correct is correct and score.score == (1.0 if correct else 0.0)


# ---------------------------------------------------------------------- rendering


def test_image_rendering_writes_eight_deterministic_pngs(
    tmp_path, instances: list[Instance]
) -> None:
    instance = instances[3]
    item = GEN.render(instance, tmp_path)
    assert item.target == instance.answer and item.choices == list(cp.LETTERS)
    assert all(ref.startswith("media/causal_physics/") for ref in item.media)
    images = [Image.open(tmp_path / ref) for ref in item.media]
    assert all(im.format == "PNG" and im.size == (causal_render.IMAGE_SIZE,) * 2 for im in images)
    answer_png = (tmp_path / item.media[4 + cp.LETTERS.index(instance.answer)]).read_bytes()
    t5 = instance.content["trajectory"][instance.content["answer_frame"]]
    assert answer_png == causal_render.draw_frame(instance.content["scene"], t5)
    distinct = {(tmp_path / ref).read_bytes() for ref in item.media}
    assert len(distinct) == 8
    assert "t1, t2, t3, t4" in item.input and "Answer: <letter>" in item.input
    assert item.metadata["complexity"] == instance.complexity


def test_text_rendering_follows_appendix_f1(tmp_path, instances: list[Instance]) -> None:
    instance = instances[4]
    item = GEN.render(instance, tmp_path, mode="text")
    text = item.input
    assert item.media == [] and item.target == instance.answer
    assert list(tmp_path.iterdir()) == []  # text mode writes no media
    n = len(instance.content["scene"]["objects"])
    pattern = re.compile(
        r"Obj (\d+): (red|green|blue|yellow|purple|orange|cyan) "
        r"(circle with radius \d+|square with length \d+|rectangle with length \d+ and height \d+"
        r"|equilateral triangle with side length \d+) at position \((-?\d+), (-?\d+)\)"
    )
    found = pattern.findall(text)
    assert len(found) == 8 * n
    for k in range(1, 5):
        assert f"Frame {k} Obj 1:" in text
    for letter in cp.LETTERS:
        assert f"Option {letter} Obj 1:" in text
    # Positions are the simulation's, with y flipped to image coordinates.
    t1 = instance.content["trajectory"][instance.content["input_frames"][0]]
    x, y = round(t1[0][0]), round(cp.HEIGHT - t1[0][1])
    assert found[0][0] == "1" and (int(found[0][3]), int(found[0][4])) == (x, y)


def test_unknown_mode_is_refused(tmp_path, instances: list[Instance]) -> None:
    with pytest.raises(ValueError, match="mode"):
        GEN.render(instances[0], tmp_path, "video")


# --------------------------------------------------------------- params and card


@pytest.mark.parametrize(
    "params",
    [
        {"min_objects": 1},
        {"max_objects": 11},
        {"min_objects": 6, "max_objects": 3},
        {"shapes": "hexagon"},
        {"gravity_y_max": 11.0},
        {"max_complexity": 0.995},
        {"objects": 3},
    ],
)
def test_out_of_range_parameters_are_refused(params: dict) -> None:
    with pytest.raises(ParamError):
        GEN.sample(0, params)


def test_card_is_a_valid_general_bench_card() -> None:
    card = parse_card("gen-causal_physics", GEN.card())
    assert isinstance(card, DatasetCard)
    assert card.dataset_id == "gen-causal_physics" and card.generator == "causal_physics"
    assert card.media_roles() == ["image"]
    names = {p["name"] for p in GEN.card()["raw_meta"]["parameters"]}
    assert names == {p.name for p in cp.PARAMS}


def test_another_process_with_another_hash_seed_gives_the_same_bytes(tmp_path) -> None:
    code = (
        "import hashlib, sys, msgspec\n"
        "from pathlib import Path\n"
        "from tools.generators.causal_physics import CausalPhysicsGenerator\n"
        "g = CausalPhysicsGenerator()\n"
        "i = g.sample(21)\n"
        "item = g.render(i, Path(sys.argv[1]))\n"
        "h = hashlib.sha256(msgspec.json.encode(i))\n"
        "for ref in item.media: h.update((Path(sys.argv[1]) / ref).read_bytes())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / hash_seed)],
            capture_output=True, text=True, env=env, cwd=REPO, check=True,
        )  # fmt: skip
        digests.add(out.stdout.strip())
    instance = GEN.sample(21)
    item = GEN.render(instance, tmp_path / "here")
    here = hashlib.sha256(msgspec.json.encode(instance))
    for ref in item.media:
        here.update((tmp_path / "here" / ref).read_bytes())
    assert digests == {here.hexdigest()}
