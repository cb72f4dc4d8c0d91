"""Image tools: each does its job, deterministically, and refuses bad arguments clearly."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tools.registry import ToolArgumentError, ToolExecutionError, ToolResult, load_builtin_tools
from tools.workspace import Workspace

REGISTRY = load_builtin_tools()
RED, BLUE, GREEN, YELLOW = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 0)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    halves = Image.new("RGB", (200, 100), RED)
    halves.paste(Image.new("RGB", (100, 100), BLUE), (100, 0))
    workspace.write_bytes("halves.png", _png(halves))
    gradient = Image.new("RGB", (64, 48))
    gradient.putdata([(x * 4, y * 5, (x + y) % 256) for y in range(48) for x in range(64)])
    workspace.write_bytes("gradient.png", _png(gradient))
    for name, colour in (("r", RED), ("b", BLUE), ("g", GREEN), ("y", YELLOW)):
        workspace.write_bytes(f"frames/{name}.png", _png(Image.new("RGB", (40, 30), colour)))
    return workspace


def run(ws: Workspace, name: str, **args: Any) -> ToolResult:
    return REGISTRY.run(name, args, ws, seed=0)


def image(ws: Workspace, ref: str) -> Image.Image:
    img = Image.open(io.BytesIO(ws.read_bytes(ref)))
    img.load()
    return img


# ---------------------------------------------------------------------- resize


def test_resize_stretch_fit_pad_crop(ws: Workspace) -> None:
    stretched = run(ws, "image_resize", input="halves.png", output="s.png", width=64, height=48,
                    mode="stretch")
    assert stretched.values == {"width": 64, "height": 48, "format": "png"}
    assert image(ws, "s.png").size == (64, 48)

    run(ws, "image_resize", input="halves.png", output="f.png", width=50, height=50, mode="fit")
    assert image(ws, "f.png").size == (50, 25)

    run(ws, "image_resize", input="halves.png", output="p.png", width=50, height=50, mode="pad",
        color="#00ff00")
    padded = image(ws, "p.png")
    assert padded.size == (50, 50)
    assert padded.getpixel((25, 2)) == GREEN  # band above the fitted image
    assert padded.getpixel((25, 47)) == GREEN  # band below
    assert padded.getpixel((5, 25)) == RED and padded.getpixel((45, 25)) == BLUE

    run(ws, "image_resize", input="halves.png", output="c.png", width=50, height=50, mode="crop")
    cropped = image(ws, "c.png")
    assert cropped.size == (50, 50)
    # the centre of the image is kept: red on the left, blue on the right, no padding
    assert cropped.getpixel((2, 25)) == RED and cropped.getpixel((47, 25)) == BLUE


def test_resize_one_side_keeps_aspect(ws: Workspace) -> None:
    assert run(ws, "image_resize", input="halves.png", output="w.png", width=100).values[
        "height"
    ] == 50
    assert run(ws, "image_resize", input="halves.png", output="h.png", height=20).values[
        "width"
    ] == 40


def test_resize_to_aspect_ratio(ws: Workspace) -> None:
    crop = run(ws, "image_resize", input="halves.png", output="a.png", aspect="1:1", mode="crop")
    assert (crop.values["width"], crop.values["height"]) == (100, 100)
    pad = run(ws, "image_resize", input="halves.png", output="b.png", aspect="1:1", mode="pad")
    assert (pad.values["width"], pad.values["height"]) == (200, 200)
    wide = run(ws, "image_resize", input="halves.png", output="c.png", aspect="16:9",
               mode="pad", width=320)
    assert (wide.values["width"], wide.values["height"]) == (320, 180)
    stretched = run(ws, "image_resize", input="halves.png", output="d.png", aspect="4:3",
                    mode="stretch", height=30)
    assert (stretched.values["width"], stretched.values["height"]) == (40, 30)


# --------------------------------------------------------------- crop and pad


def test_crop_pixels_and_relative(ws: Workspace) -> None:
    run(ws, "image_crop", input="gradient.png", output="c.png", box=[10, 5, 30, 25])
    out = image(ws, "c.png")
    expected = image(ws, "gradient.png").crop((10, 5, 30, 25))
    assert out.size == (20, 20)
    assert out.tobytes() == expected.tobytes()
    rel = run(ws, "image_crop", input="gradient.png", output="r.png",
              box=[0.25, 0.5, 0.75, 1.0], relative=True)
    assert (rel.values["width"], rel.values["height"]) == (32, 24)
    assert image(ws, "r.png").getpixel((0, 0)) == image(ws, "gradient.png").getpixel((16, 24))


def test_pad_adds_coloured_margins(ws: Workspace) -> None:
    result = run(ws, "image_pad", input="gradient.png", output="p.png", left=3, top=4, right=5,
                 bottom=6, color="#0000ff")
    out = image(ws, "p.png")
    assert out.size == (72, 58) == (result.values["width"], result.values["height"])
    assert out.getpixel((0, 0)) == BLUE and out.getpixel((71, 57)) == BLUE
    assert out.getpixel((3, 4)) == image(ws, "gradient.png").getpixel((0, 0))


# --------------------------------------------------------------------- compose


def test_compose_grid_places_frames_row_major_with_gaps(ws: Workspace) -> None:
    frames = [f"frames/{n}.png" for n in "rbgy"]
    result = run(ws, "image_compose", inputs=frames, output="grid.png", gap=10,
                 background="#000000")
    out = image(ws, "grid.png")
    assert out.size == (90, 70)
    assert result.values["columns"] == 2 and result.values["rows"] == 2
    assert out.getpixel((20, 15)) == RED
    assert out.getpixel((70, 15)) == BLUE
    assert out.getpixel((20, 55)) == GREEN
    assert out.getpixel((70, 55)) == YELLOW
    assert out.getpixel((45, 15)) == (0, 0, 0)  # the gap


def test_compose_strips_and_cells(ws: Workspace) -> None:
    frames = [f"frames/{n}.png" for n in "rbg"]
    run(ws, "image_compose", inputs=frames, output="h.png", layout="horizontal")
    assert image(ws, "h.png").size == (120, 30)
    run(ws, "image_compose", inputs=frames, output="v.png", layout="vertical", cell_width=20,
        cell_height=20)
    vertical = image(ws, "v.png")
    assert vertical.size == (20, 60)
    assert vertical.getpixel((10, 50)) == GREEN


def test_compose_labels_are_drawn(ws: Workspace) -> None:
    frames = [f"frames/{n}.png" for n in "rb"]
    run(ws, "image_compose", inputs=frames, output="plain.png", layout="horizontal")
    run(ws, "image_compose", inputs=frames, output="labelled.png", layout="horizontal",
        labels=["A", "B"], label_size=12)
    plain, labelled = image(ws, "plain.png"), image(ws, "labelled.png")
    corner = (0, 0, 20, 20)
    assert plain.crop(corner).getcolors() == [(400, RED)]
    assert len(labelled.crop(corner).getcolors()) > 1
    with pytest.raises(ToolArgumentError, match="labels has 1 entries for 2 inputs"):
        run(ws, "image_compose", inputs=frames, output="x.png", labels=["A"])


# ------------------------------------------------------------------- highlight


def test_highlight_rectangle_draws_outline_only(ws: Workspace) -> None:
    base = Image.new("RGB", (100, 80), (255, 255, 255))
    ws.write_bytes("white.png", _png(base))
    result = run(ws, "image_highlight", input="white.png", output="h.png", box=[20, 10, 60, 50],
                 line_width=3, color="#ff0000")
    out = image(ws, "h.png")
    assert result.values["box"] == [20, 10, 60, 50]
    for edge in [(20, 30), (22, 30), (59, 30), (57, 30), (40, 10), (40, 12), (40, 49)]:
        assert out.getpixel(edge) == RED, edge
    for untouched in [(23, 30), (40, 30), (19, 30), (60, 30), (40, 9), (40, 50), (0, 0)]:
        assert out.getpixel(untouched) == (255, 255, 255), untouched


def test_highlight_ellipse_relative_box(ws: Workspace) -> None:
    ws.write_bytes("white.png", _png(Image.new("RGB", (100, 100), (255, 255, 255))))
    run(ws, "image_highlight", input="white.png", output="e.png", box=[0.2, 0.2, 0.8, 0.8],
        relative=True, shape="ellipse", color="#0000ff", line_width=2)
    out = image(ws, "e.png")
    assert out.getpixel((50, 20)) == BLUE and out.getpixel((20, 50)) == BLUE
    assert out.getpixel((21, 21)) == (255, 255, 255)  # box corner is outside the ellipse
    assert out.getpixel((50, 50)) == (255, 255, 255)


def test_highlight_on_greyscale_promotes_to_colour(ws: Workspace) -> None:
    ws.write_bytes("grey.png", _png(Image.new("L", (30, 30), 128)))
    run(ws, "image_highlight", input="grey.png", output="g.png", box=[5, 5, 25, 25])
    out = image(ws, "g.png")
    assert out.mode == "RGB" and out.getpixel((5, 15)) == RED


# ------------------------------------------------------------ re-encode / blur


def test_reencode_quality_and_metadata_stripped(ws: Workspace) -> None:
    noisy = Image.effect_noise((96, 96), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010E] = "a description that must not survive"
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    ws.write_bytes("photo.jpg", buf.getvalue())
    low = run(ws, "image_reencode", input="photo.jpg", output="low.jpg", quality=10)
    high = run(ws, "image_reencode", input="photo.jpg", output="high.jpg", quality=95)
    assert low.files["image"].size < high.files["image"].size
    reopened = image(ws, "low.jpg")
    assert reopened.format == "JPEG" and reopened.size == (96, 96)
    assert not reopened.getexif() and b"must not survive" not in ws.read_bytes("low.jpg")
    png = run(ws, "image_reencode", input="photo.jpg", output="x.bin", format="png")
    assert ws.read_bytes("x.bin").startswith(b"\x89PNG") and png.values["format"] == "png"


def test_reencode_flattens_alpha_for_jpeg(ws: Workspace) -> None:
    ws.write_bytes("alpha.png", _png(Image.new("RGBA", (10, 10), (0, 0, 0, 0))))
    run(ws, "image_reencode", input="alpha.png", output="a.jpg", quality=100)
    pixel = image(ws, "a.jpg").getpixel((5, 5))
    assert all(channel > 245 for channel in pixel)  # transparent → white background


def test_blur_smooths_edges_only(ws: Workspace) -> None:
    run(ws, "image_blur", input="halves.png", output="b.png", radius=4)
    out = image(ws, "b.png")
    assert out.getpixel((10, 50)) == RED and out.getpixel((190, 50)) == BLUE
    r, _, b = out.getpixel((99, 50))
    assert 50 < r < 230 and 50 < b < 230
    run(ws, "image_blur", input="halves.png", output="box.png", radius=4, kind="box")
    assert image(ws, "box.png").tobytes() != out.tobytes()


# ------------------------------------------------------------------ determinism

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("image_resize", {"input": "gradient.png", "output": "o/resize.png", "width": 33,
                      "height": 17, "mode": "pad"}),
    ("image_resize", {"input": "gradient.png", "output": "o/resize.jpg", "aspect": "1:1",
                      "mode": "crop", "quality": 70}),
    ("image_crop", {"input": "gradient.png", "output": "o/crop.png", "box": [1, 2, 30, 40]}),
    ("image_pad", {"input": "gradient.png", "output": "o/pad.jpg", "top": 7}),
    ("image_compose", {"inputs": ["frames/r.png", "gradient.png"], "output": "o/compose.png",
                       "labels": ["1", "2"]}),
    ("image_highlight", {"input": "gradient.png", "output": "o/hl.png", "box": [3, 3, 20, 20],
                         "shape": "ellipse"}),
    ("image_reencode", {"input": "gradient.png", "output": "o/re.jpg", "quality": 33}),
    ("image_blur", {"input": "gradient.png", "output": "o/blur.png", "radius": 1.5}),
]


@pytest.mark.parametrize(("name", "args"), CALLS, ids=[c[0] + str(i) for i, c in enumerate(CALLS)])
def test_same_arguments_same_bytes(ws: Workspace, name: str, args: dict[str, Any]) -> None:
    first = REGISTRY.run(name, args, ws, seed=3)
    bytes_first = ws.read_bytes(args["output"])
    second = REGISTRY.run(name, args, ws, seed=3)
    assert first.outputs() == second.outputs()
    assert ws.read_bytes(args["output"]) == bytes_first


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("image_resize", {"width": -5}, "'width': -5 is less than the minimum of 1"),
        ("image_resize", {"width": 0, "height": 10}, "'width': 0 is less than the minimum"),
        ("image_resize", {"width": 10**6}, "greater than the maximum"),
        ("image_resize", {}, "give width and/or height, or aspect"),
        ("image_resize", {"aspect": "1:1"}, "aspect needs mode crop, pad or stretch"),
        ("image_resize", {"aspect": "0:1", "mode": "crop"}, "must be positive"),
        ("image_resize", {"width": 5, "mode": "squash"}, "'squash' is not one of"),
        ("image_reencode", {"quality": 0}, "'quality': 0 is less than the minimum of 1"),
        ("image_reencode", {"quality": 101}, "'quality': 101 is greater than the maximum of 100"),
        ("image_reencode", {"output": "x.gif"}, "unknown output format '.gif'"),
        ("image_reencode", {"output": "noext"}, r"unknown output format '\(no suffix\)'"),
        ("image_reencode", {"format": "tiff"}, "'tiff' is not one of"),
        ("image_blur", {"radius": -1}, "'radius': -1 is less than the minimum"),
        ("image_crop", {"box": [10, 10, 5, 20]}, "right > left"),
        ("image_crop", {"box": [0, 0, 1]}, "too short"),
        ("image_crop", {"box": [0, 0, 2, 2], "relative": True}, r"must be in \[0, 1\]"),
        ("image_crop", {"box": [0, 0, 65, 10]}, "outside the 64x48 image"),
        ("image_pad", {}, "at least one of left, top, right, bottom"),
        ("image_highlight", {"box": [0, 0, 5, 5], "color": "red"}, "does not match"),
        ("image_resize", {"input": "../outside.png", "width": 5}, "'..'"),
    ],
)
def test_out_of_range_arguments_are_clear_errors(
    ws: Workspace, name: str, args: dict[str, Any], message: str
) -> None:
    full = {"input": "gradient.png", "output": "out.png", **args}
    with pytest.raises(ToolArgumentError, match=message) as info:
        REGISTRY.run(name, full, ws)
    assert str(info.value).startswith(f"{name}: ")
    assert not ws.exists("out.png")


def test_undecodable_input_is_an_execution_error(ws: Workspace) -> None:
    ws.write_bytes("broken.png", b"not an image at all")
    with pytest.raises(ToolExecutionError, match="'broken.png' is not a readable image"):
        run(ws, "image_blur", input="broken.png", output="x.png")


def test_resize_dataset_image_from_mounted_source(tmp_path: Path, general_bench: Path) -> None:
    ws = Workspace(tmp_path / "ws", sources={"gb": general_bench / "datasets"})
    images = ws.list_files("gb:image/ArtImageVisualQuestionAnswering/images", suffixes=(".jpg",))
    result = run(ws, "image_resize", input=images[0], output="art.jpg", width=128, height=128,
                 mode="pad", quality=80)
    assert image(ws, "art.jpg").size == (128, 128)
    assert result.files["image"].path == "art.jpg"
