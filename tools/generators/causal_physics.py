"""BA-Causal: predict the next state of a 2D physics scene (BenchAgents, appendix A.3).

A scene (gravity vector, walls' friction and elasticity, circles, squares, rectangles and
equilateral triangles with size, mass, friction, elasticity, velocity and colour) is
simulated with pymunk for 20 frames. Four consecutive input frames t1..t4 are chosen
around a collision, the true next frame t5 is the answer, and three distractors are other
frames of the same trajectory. The options are shuffled; the answer is a letter A-D.

Complexity (the paper's) = 1 − min over distractors of the average Euclidean distance
between objects' positions in the answer and in the distractor, normalised by the scene
diagonal. Instances at complexity ≥ ``max_complexity`` (0.99) are too ambiguous: they are
dropped and the instance is resampled with a seed derived from the original one, so
``sample(seed)`` stays a pure function of its arguments.

The stored trajectory is the source of truth for rendering; verification re-simulates the
scene and demands the same trajectory, so a tampered instance is caught.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path
from typing import Any

import pymunk

from tools.generators.base import CheckResult, Instance, ParamError, ParamSpec, RenderedItem, Score
from tools.generators.card_format import field, generator_card
from tools.generators.param_sampling import derived_seed, resolve_params

WIDTH = HEIGHT = 800  # pixels (A.3: a fixed 800 × 800 space)
DIAGONAL = math.hypot(WIDTH, HEIGHT)
STEPS = 20  # simulated steps; the trajectory holds STEPS + 1 states (initial included)
FRAME_DT = 0.1  # seconds between two frames
SUBSTEPS = 10  # physics steps per frame, for stable contacts
PX_PER_M = 20.0  # gravity is given in m/s², the space is in pixels
WALL_RADIUS = 8.0  # thick walls: fast small objects cannot tunnel through
DECIMALS = 3  # stored coordinates; re-simulation must reproduce them exactly
MAX_ATTEMPTS = 200
LETTERS = "ABCD"

SHAPES = ("circle", "square", "rectangle", "triangle")
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "purple": (128, 0, 128),
    "orange": (255, 165, 0),
    "cyan": (0, 255, 255),
}
CIRCLE_RADIUS = (5.0, 50.0)
SIDE = (10.0, 100.0)
MASS = (1.0, 10.0)
VELOCITY = (-100.0, 100.0)  # px/s, each component

PARAMS: list[ParamSpec] = [
    ParamSpec(name="min_objects", kind="int", low=2, high=10, default=2,
              description="fewest objects in a scene"),
    ParamSpec(name="max_objects", kind="int", low=2, high=10, default=10,
              description="most objects in a scene"),
    ParamSpec(name="shapes", kind="choice", choices=["mixed", *SHAPES], default="mixed",
              description="object shapes: one kind, or all four mixed"),
    ParamSpec(name="gravity_x_max", kind="float", low=0.0, high=5.0, default=5.0,
              description="gravity x is drawn from [-g, g] m/s²"),
    ParamSpec(name="gravity_y_max", kind="float", low=0.0, high=10.0, default=10.0,
              description="gravity y is drawn from [-g, 0] m/s² (downwards)"),
    ParamSpec(name="max_complexity", kind="float", low=0.5, high=0.99, default=0.99,
              description="instances at or above this complexity are dropped"),
]  # fmt: skip

INSTRUCTIONS = (
    "Examine the sequence of 4 images showing the trajectory of objects in a 2D space over "
    "time steps t1, t2, t3, t4. Think step by step and describe the changes observed between "
    "each consecutive image. Using this information, determine the most likely next state of "
    "the system (t5) from the options (a, b, c, d)."
)
RESPONSE_FORMAT = "Provide your response as: Changes: <describe the changes> Answer: <letter>"


# ------------------------------------------------------------------------ scenes


def bounding_radius(kind: str, size: list[float]) -> float:
    if kind == "circle":
        return size[0]
    if kind == "square":
        return size[0] / math.sqrt(2)
    if kind == "rectangle":
        return math.hypot(size[0], size[1]) / 2
    return size[0] / math.sqrt(3)  # equilateral triangle: circumradius


def triangle_vertices(side: float) -> list[tuple[float, float]]:
    """An equilateral triangle centred on its centroid, one vertex up."""
    r = side / math.sqrt(3)
    return [
        (r * math.cos(a), r * math.sin(a)) for a in (math.pi / 2, 7 * math.pi / 6, 11 * math.pi / 6)
    ]


def sample_scene(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    """BenchAgents' sample_parameters: every A.3 parameter, objects placed without overlap."""
    n = rng.randint(params["min_objects"], params["max_objects"])
    gx, gy = params["gravity_x_max"], params["gravity_y_max"]
    objects: list[dict[str, Any]] = []
    placed: list[tuple[float, float, float]] = []
    for index in range(n):
        kind = rng.choice(SHAPES) if params["shapes"] == "mixed" else params["shapes"]
        if kind == "circle":
            size = [round(rng.uniform(*CIRCLE_RADIUS), 1)]
        elif kind == "rectangle":
            w = round(rng.uniform(*SIDE), 1)
            h = round(rng.uniform(*SIDE), 1)
            while abs(w - h) < 8:  # a rectangle that does not look like a square
                h = round(rng.uniform(*SIDE), 1)
            size = [w, h]
        else:
            size = [round(rng.uniform(*SIDE), 1)]
        radius = bounding_radius(kind, size)
        for _ in range(100):
            x = rng.uniform(radius + WALL_RADIUS, WIDTH - radius - WALL_RADIUS)
            y = rng.uniform(radius + WALL_RADIUS, HEIGHT - radius - WALL_RADIUS)
            if all(math.hypot(x - px, y - py) > radius + pr + 2 for px, py, pr in placed):
                break
        else:
            break  # the space is full: keep the objects placed so far
        placed.append((x, y, radius))
        objects.append(
            {
                "id": index + 1,
                "type": kind,
                "size": size,
                "mass": round(rng.uniform(*MASS), 2),
                "friction": round(rng.uniform(0.0, 1.0), 2),
                "elasticity": round(rng.uniform(0.0, 1.0), 2),
                "velocity": [round(rng.uniform(*VELOCITY), 1), round(rng.uniform(*VELOCITY), 1)],
                "color": rng.choice(sorted(COLORS)),
                "position": [round(x, 1), round(y, 1)],
                "angle": round(rng.uniform(0.0, 2 * math.pi), 3),
            }
        )
    return {
        "gravity": [round(rng.uniform(-gx, gx), 2), round(rng.uniform(-gy, 0.0), 2)],
        "wall_friction": round(rng.uniform(0.0, 1.0), 2),
        "wall_elasticity": round(rng.uniform(0.0, 1.0), 2),
        "objects": objects,
    }


# -------------------------------------------------------------------- simulation


def _shape_for(body: pymunk.Body, obj: dict[str, Any]) -> pymunk.Shape:
    kind, size = obj["type"], obj["size"]
    if kind == "circle":
        body.moment = pymunk.moment_for_circle(obj["mass"], 0, size[0])
        return pymunk.Circle(body, size[0])
    if kind == "triangle":
        vertices = triangle_vertices(size[0])
    else:
        w, h = (size[0], size[0]) if kind == "square" else (size[0], size[1])
        vertices = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    body.moment = pymunk.moment_for_poly(obj["mass"], vertices)
    return pymunk.Poly(body, vertices)


def simulate(scene: dict[str, Any]) -> tuple[list[list[list[float]]], list[dict[str, Any]]]:
    """BenchAgents' sample_trajectory: STEPS + 1 states of [x, y, angle] per object, and
    every collision as {frame, pair}: the frame at whose step two shapes began to touch
    (object ids; 0 is a wall)."""
    space = pymunk.Space()
    space.gravity = (scene["gravity"][0] * PX_PER_M, scene["gravity"][1] * PX_PER_M)
    corners = [(0, 0), (WIDTH, 0), (WIDTH, HEIGHT), (0, HEIGHT)]
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        wall = pymunk.Segment(space.static_body, a, b, WALL_RADIUS)
        wall.friction = scene["wall_friction"]
        wall.elasticity = scene["wall_elasticity"]
        wall.collision_type = 0
        space.add(wall)
    bodies: list[pymunk.Body] = []
    for obj in scene["objects"]:
        body = pymunk.Body(mass=obj["mass"], moment=1.0)
        shape = _shape_for(body, obj)
        shape.friction = obj["friction"]
        shape.elasticity = obj["elasticity"]
        shape.collision_type = obj["id"]
        body.position = tuple(obj["position"])
        body.angle = obj["angle"]
        body.velocity = tuple(obj["velocity"])
        space.add(body, shape)
        bodies.append(body)

    collisions: list[dict[str, Any]] = []
    frame = [0]

    def on_begin(arbiter: pymunk.Arbiter, _space: pymunk.Space, _data: Any) -> None:
        a, b = arbiter.shapes
        collisions.append({"frame": frame[0], "pair": sorted([a.collision_type, b.collision_type])})

    space.on_collision(begin=on_begin)

    def state() -> list[list[float]]:
        return [
            [round(b.position.x, DECIMALS), round(b.position.y, DECIMALS), round(b.angle, DECIMALS)]
            for b in bodies
        ]

    trajectory = [state()]
    dt = FRAME_DT / SUBSTEPS
    for step in range(1, STEPS + 1):
        frame[0] = step
        for _ in range(SUBSTEPS):
            space.step(dt)
        trajectory.append(state())
    unique = {(c["frame"], tuple(c["pair"])) for c in collisions}
    return trajectory, [{"frame": f, "pair": list(p)} for f, p in sorted(unique)]


# ----------------------------------------------------------------------- choices


def frame_distance(trajectory: list[list[list[float]]], a: int, b: int) -> float:
    """Average Euclidean distance between the objects of two frames, over the diagonal."""
    fa, fb = trajectory[a], trajectory[b]
    total = sum(math.hypot(p[0] - q[0], p[1] - q[1]) for p, q in zip(fa, fb, strict=True))
    return total / max(len(fa), 1) / DIAGONAL


def complexity_of(
    trajectory: list[list[list[float]]], answer: int, distractors: list[int]
) -> float:
    return 1.0 - min(frame_distance(trajectory, answer, d) for d in distractors)


def collision_in_inputs(collisions: list[dict[str, Any]], first: int) -> dict[str, Any] | None:
    """A collision visible in the inputs (it begins between t1 and t4), object pairs first."""
    seen = [c for c in collisions if first < c["frame"] <= first + 3]
    seen.sort(key=lambda c: (0 in c["pair"], c["frame"], c["pair"]))
    return seen[0] if seen else None


def select_steps(
    rng: random.Random, trajectory: list[list[list[float]]], collisions: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """BenchAgents' select_steps: inputs around a collision, t5, three other frames."""
    starts = sorted(
        {
            first
            for c in collisions
            for first in range(c["frame"] - 3, c["frame"])
            if 0 <= first and first + 4 <= STEPS
        }
    )
    # Prefer windows that show two objects hitting each other over wall contacts.
    if not starts:
        return None
    between_objects = [s for s in starts if 0 not in collision_in_inputs(collisions, s)["pair"]]
    first = rng.choice(between_objects or starts)
    answer = first + 4
    # The frame right after t5 is nearly identical to it: never a fair distractor.
    pool = [f for f in range(STEPS + 1) if f < first or f > answer + 1]
    if len(pool) < 3:
        return None
    distractors = rng.sample(pool, 3)
    options = [answer, *distractors]
    rng.shuffle(options)
    return {
        "input_frames": [first, first + 1, first + 2, first + 3],
        "answer_frame": answer,
        "option_frames": options,
        "collision": collision_in_inputs(collisions, first),
    }


# --------------------------------------------------------------------- generator


class CausalPhysicsGenerator:
    name = "causal_physics"
    version = "1"
    params = PARAMS

    def card(self) -> dict[str, Any]:
        return generator_card(
            self,
            title="Visual Causal Physics (BA-Causal, procedural)",
            modalities=["image", "text"],
            inputs=["image", "text"],
            description=(
                "Procedurally generated 2D physics scenes (pymunk): four frames t1-t4 around a "
                "collision and four candidate next states; the model picks the true t5. "
                "Correct by construction; also available as a text-only rendering."
            ),
            card_text=(
                "Each item shows a sequence of four images of circles, squares, rectangles and "
                "triangles moving under gravity in a walled 800x800 space, with at least one "
                "collision inside the sequence, and four option images labelled A-D. One option "
                "is the true next frame of the simulation, the three others are frames from "
                "elsewhere in the same trajectory. Scenes vary gravity, wall friction and "
                "elasticity, and each object's shape, size, mass, friction, elasticity, initial "
                "velocity and colour. It tests visual causal reasoning about motion and "
                "collisions; complexity is 1 minus the normalised distance between the answer "
                "and its closest distractor. A text-only mode describes every object's shape, "
                "colour, size and position instead of images."
            ),
            tasks=["visual_causal_reasoning", "multiple_choice_qa", "physical_reasoning"],
            domain="physics simulation",
            fields={
                "question": field(
                    "input",
                    "text",
                    "The instructions, and in text mode the frame descriptions.",
                    style="instruction",
                    extent="medium",
                ),
                "image": field(
                    "media",
                    "image",
                    "Eight PNG frames: t1-t4 of the trajectory, then options A-D.",
                    style="synthetic",
                    extent="medium",
                    path_type="list",
                ),
                "options": field("choices", "text", "The option letters A-D.", path_type="list"),
                "answer": field("target", "text", "The letter of the true next frame."),
            },
            structure=(
                "Each record has an instruction text, eight frame images (four inputs, four "
                "options), the option letters and the letter of the true next state."
            ),
        )

    def resolve(self, seed: int, params: dict[str, Any] | None) -> dict[str, Any]:
        values, _ = resolve_params(
            self.params, params, random.Random(derived_seed(self.name, seed))
        )
        if values["min_objects"] > values["max_objects"]:
            raise ParamError(
                f"min_objects={values['min_objects']} exceeds max_objects={values['max_objects']}"
            )
        return values

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        values = self.resolve(seed, params)
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(derived_seed(self.name, seed, attempt))
            scene = sample_scene(rng, values)
            if len(scene["objects"]) < values["min_objects"]:
                continue
            trajectory, collisions = simulate(scene)
            steps = select_steps(rng, trajectory, collisions)
            if steps is None:
                continue  # no collision to show: resample
            distractors = [f for f in steps["option_frames"] if f != steps["answer_frame"]]
            complexity = complexity_of(trajectory, steps["answer_frame"], distractors)
            if complexity >= values["max_complexity"]:
                continue  # a distractor is nearly the answer: resample
            letter = LETTERS[steps["option_frames"].index(steps["answer_frame"])]
            return Instance(
                generator=self.name,
                seed=seed,
                params=values,
                content={
                    "attempt": attempt,
                    "scene": scene,
                    "trajectory": trajectory,
                    "collisions": collisions,
                    **steps,
                },
                answer=letter,
                complexity=round(complexity, 6),
            )
        raise RuntimeError(
            f"{self.name}: no valid instance in {MAX_ATTEMPTS} attempts (seed {seed})"
        )

    # ------------------------------------------------------------------ checks

    def verify(self, instance: Instance) -> list[CheckResult]:
        c = instance.content
        trajectory, first = c["trajectory"], c["input_frames"][0]
        answer, options = c["answer_frame"], c["option_frames"]
        results: list[CheckResult] = []

        resim, collisions = simulate(c["scene"])
        same = resim == trajectory
        results.append(
            CheckResult(
                check="consistency",
                passed=same,
                reason="re-simulating the scene reproduces the stored trajectory"
                if same
                else "the stored trajectory differs from a re-simulation of the scene",
            )
        )

        layout_problems = []
        if c["input_frames"] != [first, first + 1, first + 2, first + 3]:
            layout_problems.append("input frames are not four consecutive frames")
        if answer != first + 4:
            layout_problems.append(f"answer frame {answer} is not the frame after t4 ({first + 3})")
        if sorted(set(options)) != sorted(options) or len(options) != 4:
            layout_problems.append(f"options {options} are not four distinct frames")
        if any(not 0 <= f <= STEPS for f in [*c["input_frames"], *options]):
            layout_problems.append("a frame index is outside the trajectory")
        letter = instance.answer if isinstance(instance.answer, str) else ""
        if letter not in LETTERS or options[LETTERS.index(letter)] != answer:
            layout_problems.append(
                f"answer letter {instance.answer!r} does not point at frame {answer}"
            )
        distractors = [f for f in options if f != answer]
        if any(first <= f <= answer for f in distractors):
            layout_problems.append("a distractor is an input frame or the answer")
        results.append(
            CheckResult(
                check="answer",
                passed=not layout_problems,
                reason="; ".join(layout_problems) or f"option {letter} is the true next frame t5",
            )
        )

        shown = collision_in_inputs(collisions, first)
        results.append(
            CheckResult(
                check="feasibility",
                passed=shown is not None,
                reason=f"objects {shown['pair']} collide at frame {shown['frame']}, inside t1-t4"
                if shown
                else "no collision happens within the input frames",
            )
        )

        limit = instance.params.get("max_complexity", 0.99)
        if len(distractors) == 3 and all(0 <= f <= STEPS for f in options):
            measured = complexity_of(resim, answer, distractors)
            ok = measured < limit and abs(measured - instance.complexity) < 1e-5
            reason = (
                f"complexity {measured:.4f} < {limit} and matches the recorded value"
                if ok
                else f"complexity {measured:.4f} (recorded {instance.complexity}) must be < {limit}"
            )
        else:
            ok, reason = False, "complexity is undefined without three distractors"
        results.append(CheckResult(check="complexity", passed=ok, reason=reason))
        return results

    # ----------------------------------------------------------------- scoring

    def score(self, instance: Instance, answer: str) -> Score:
        chosen = parse_choice(answer)
        if chosen is None:
            return Score(
                correct=False, score=0.0, detail={"reason": "no single option letter found"}
            )
        correct = chosen == instance.answer
        return Score(
            correct=correct,
            score=1.0 if correct else 0.0,
            detail={"chosen": chosen, "expected": instance.answer},
        )

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        from tools.generators import causal_render  # it imports this module

        return causal_render.render_item(instance, Path(workspace), mode)


_ANSWER_LINE = re.compile(r"answer\s*[:\-]?\s*\(?\s*(?:option\s*)?([a-d])\b\s*\)?", re.IGNORECASE)
_BARE = re.compile(r"^\s*\(?\s*(?:option\s*)?([a-d])\s*[\).]?\s*$", re.IGNORECASE)


def parse_choice(text: str) -> str | None:
    """The option letter a response commits to: the last "Answer: X", or a bare letter."""
    if not isinstance(text, str):
        return None
    found = _ANSWER_LINE.findall(text)
    if found:
        return found[-1].upper()
    bare = _BARE.match(text)
    return bare.group(1).upper() if bare else None
