"""Rendering BA-Causal instances: PNG frames with Pillow, or the text-only form (appendix F.1).

Frames are drawn from the stored trajectory (pymunk's y axis points up; images' down),
with no text, timestamps or metadata in the PNGs, so the same instance always gives the
same bytes. Positions in the text form are in image coordinates (origin top-left, y down)
of the 800 × 800 space, like the paper's example.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tools.generators import causal_physics as cp
from tools.generators.base import Instance, RenderedItem
from tools.generators.rendering import check_mode
from tools.workspace import Workspace

IMAGE_SIZE = 512  # pixels; the 800 × 800 space is scaled down
MODES = ("default", "text")
# A fixed palette (PNG mode "P"): a third of the bytes to compress, four times faster
# to encode than RGB, and still exactly the appendix's colours.
BACKGROUND, WALL, OUTLINE = 0, 1, 2
PALETTE_NAMES = sorted(cp.COLORS)
PALETTE = [255, 255, 255, 96, 96, 96, 0, 0, 0] + [v for n in PALETTE_NAMES for v in cp.COLORS[n]]


def object_outline(obj: dict[str, Any], state: list[float]) -> list[tuple[float, float]]:
    """Polygon vertices of a non-circular object, in image pixels."""
    if obj["type"] == "triangle":
        local = cp.triangle_vertices(obj["size"][0])
    else:
        w = obj["size"][0]
        h = obj["size"][0] if obj["type"] == "square" else obj["size"][1]
        local = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    x, y, angle = state
    cos, sin = math.cos(angle), math.sin(angle)
    return [to_image(x + vx * cos - vy * sin, y + vx * sin + vy * cos) for vx, vy in local]


def to_image(x: float, y: float) -> tuple[float, float]:
    scale = IMAGE_SIZE / cp.WIDTH
    return (x * scale, (cp.HEIGHT - y) * scale)


def draw_frame(scene: dict[str, Any], frame: list[list[float]]) -> bytes:
    """One state of the scene as PNG bytes."""
    image = Image.new("P", (IMAGE_SIZE, IMAGE_SIZE), BACKGROUND)
    image.putpalette(PALETTE)
    draw = ImageDraw.Draw(image)
    wall = max(1, round(cp.WALL_RADIUS * IMAGE_SIZE / cp.WIDTH))
    draw.rectangle([0, 0, IMAGE_SIZE - 1, IMAGE_SIZE - 1], outline=WALL, width=wall)
    scale = IMAGE_SIZE / cp.WIDTH
    for obj, state in zip(scene["objects"], frame, strict=True):
        colour = 3 + PALETTE_NAMES.index(obj["color"])
        if obj["type"] == "circle":
            cx, cy = to_image(state[0], state[1])
            r = obj["size"][0] * scale
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour, outline=OUTLINE)
            # A radius line shows the circle's rotation.
            tip = to_image(state[0] + obj["size"][0] * math.cos(state[2]),
                           state[1] + obj["size"][0] * math.sin(state[2]))  # fmt: skip
            draw.line([(cx, cy), tip], fill=OUTLINE, width=1)
        else:
            draw.polygon(object_outline(obj, state), fill=colour, outline=OUTLINE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def describe_object(obj: dict[str, Any], state: list[float]) -> str:
    """Appendix F.1: 'purple rectangle with length 76 and height 31 at position (330, 626)'."""
    size = [round(s) for s in obj["size"]]
    if obj["type"] == "circle":
        shape = f"circle with radius {size[0]}"
    elif obj["type"] == "square":
        shape = f"square with length {size[0]}"
    elif obj["type"] == "rectangle":
        shape = f"rectangle with length {size[0]} and height {size[1]}"
    else:
        shape = f"equilateral triangle with side length {size[0]}"
    x, y = round(state[0]), round(cp.HEIGHT - state[1])
    return f"Obj {obj['id']}: {obj['color']} {shape} at position ({x}, {y})"


def describe_frame(scene: dict[str, Any], frame: list[list[float]]) -> str:
    return " ".join(describe_object(o, s) for o, s in zip(scene["objects"], frame, strict=True))


def text_prompt(instance: Instance) -> str:
    c = instance.content
    frames = [
        f"Frame {i + 1} {describe_frame(c['scene'], c['trajectory'][f])}"
        for i, f in enumerate(c["input_frames"])
    ]
    options = [
        f"Option {letter} {describe_frame(c['scene'], c['trajectory'][f])}"
        for letter, f in zip(cp.LETTERS, c["option_frames"], strict=True)
    ]
    return "\n".join(
        [
            f"Instructions: {cp.INSTRUCTIONS}",
            "Positions are (x, y) in pixels of an 800x800 space, origin at the top-left corner.",
            "Image Sequence:",
            *frames,
            "Answer Options (Next State t5):",
            *options,
            cp.RESPONSE_FORMAT,
        ]
    )


def image_prompt() -> str:
    return "\n".join(
        [
            cp.INSTRUCTIONS,
            "Images 1-4 are the frames t1, t2, t3, t4; images 5-8 are the options A, B, C, D.",
            cp.RESPONSE_FORMAT,
        ]
    )


def instance_key(instance: Instance) -> str:
    """A short name for the instance's media directory (seed plus a content digest)."""
    digest = hashlib.sha256(repr((instance.seed, instance.content["trajectory"])).encode())
    return f"{instance.seed}-{digest.hexdigest()[:12]}"


def render_item(instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
    check_mode(mode, MODES)
    c = instance.content
    scene = c["scene"]
    metadata: dict[str, Any] = {
        "generator": cp.CausalPhysicsGenerator.name,
        "seed": instance.seed,
        "complexity": instance.complexity,
        "mode": mode,
        "input_frames": c["input_frames"],
        "option_frames": c["option_frames"],
        "collision": c["collision"],
        "n_objects": len(scene["objects"]),
        "shape_kinds": len({o["type"] for o in scene["objects"]}),
    }
    choices = list(cp.LETTERS)
    if mode == "text":
        return RenderedItem(
            input=text_prompt(instance), target=instance.answer, choices=choices, metadata=metadata
        )
    ws = Workspace(workspace)
    folder = f"media/{cp.CausalPhysicsGenerator.name}/{instance_key(instance)}"
    names = [f"t{i + 1}" for i in range(4)] + [f"option_{letter}" for letter in cp.LETTERS]
    media = [
        ws.write_bytes(f"{folder}/{name}.png", draw_frame(scene, c["trajectory"][f]))
        for name, f in zip(names, c["input_frames"] + c["option_frames"], strict=True)
    ]
    return RenderedItem(
        input=image_prompt(),
        target=instance.answer,
        choices=choices,
        media=media,
        metadata=metadata,
    )
