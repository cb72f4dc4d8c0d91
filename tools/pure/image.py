"""Image tools (Pillow): resize, crop, pad, compose, highlight, re-encode, blur.

Every tool reads images from the workspace (or a mounted source) and writes one
image. Output bytes are deterministic: EXIF orientation is applied on load and
all metadata dropped on save; PNG uses a fixed compress level, JPEG fixed
quality, 4:2:0 subsampling, no optimisation, baseline. The output format comes
from `format` or, when absent, from the output suffix (.png, .jpg, .jpeg).

Each tool returns the output `width`, `height` and `format` as values and the
file under the logical name "image".
"""

from __future__ import annotations

import io
import math
from pathlib import PurePosixPath
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, UnidentifiedImageError

from tools.registry import ToolArgumentError, ToolContext, ToolExecutionError, tool

VERSION = "1"
MAX_SIDE = 16384
PNG_COMPRESS_LEVEL = 6
_SUFFIX_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

# ----------------------------------------------------------------- schema parts

_INPUT = {"type": "string", "format": "ws-path", "description": "image to read"}
_OUTPUT = {
    "type": "string",
    "format": "ws-output-path",
    "description": "image to write (.png, .jpg or .jpeg unless `format` is given)",
}
_FORMAT = {"enum": ["png", "jpeg"], "description": "output encoding; default from the suffix"}
_QUALITY = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100,
    "default": 90,
    "description": "JPEG quality (ignored for PNG)",
}
_SIDE = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
_COLOR = {
    "type": "string",
    "pattern": "^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$",
    "description": "#rrggbb or #rrggbbaa",
}
_BOX = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 4,
    "maxItems": 4,
    "description": "[left, top, right, bottom] in pixels (or fractions with relative=true)",
}


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    props = {"input": _INPUT, **properties, "output": _OUTPUT, "format": _FORMAT}
    props["quality"] = _QUALITY
    return {
        "type": "object",
        "properties": props,
        "required": ["input", *required, "output"],
        "additionalProperties": False,
    }


# ----------------------------------------------------------------- load / save


def output_format(args: dict[str, Any]) -> str:
    if args.get("format"):
        return str(args["format"])
    suffix = PurePosixPath(args["output"]).suffix.lower()
    fmt = _SUFFIX_FORMATS.get(suffix)
    if fmt is None:
        raise ToolArgumentError(
            f"unknown output format {suffix or '(no suffix)'!r} for {args['output']!r}; "
            "use .png, .jpg or .jpeg, or set format"
        )
    return fmt


def _check_output(args: dict[str, Any]) -> None:
    output_format(args)


def load_image(ctx: ToolContext, ref: str) -> Image.Image:
    """Decode `ref`, apply EXIF orientation, normalise the mode to L, RGB or RGBA."""
    data = ctx.read_bytes(ref)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            img = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError) as exc:
        raise ToolExecutionError(f"{ref!r} is not a readable image: {exc}", tool=ctx.tool) from exc
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (
        img.mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        return img.convert("RGBA")
    if img.mode == "L":
        return img.copy()
    return img.convert("RGB")


def encode_image(img: Image.Image, fmt: str, quality: int) -> bytes:
    """Deterministic bytes, no metadata."""
    out = io.BytesIO()
    if fmt == "jpeg":
        if img.mode not in ("RGB", "L"):
            img = _flatten(img)
        img.save(
            out,
            "JPEG",
            quality=quality,
            subsampling=2,
            optimize=False,
            progressive=False,
        )
    else:
        img.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)
    return out.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def save_image(ctx: ToolContext, img: Image.Image, args: dict[str, Any]) -> dict[str, Any]:
    fmt = output_format(args)
    ctx.write_file("image", args["output"], encode_image(img, fmt, args["quality"]))
    return {"width": img.width, "height": img.height, "format": fmt}


def parse_color(value: str, mode: str) -> tuple[int, ...] | int:
    """'#rrggbb[aa]' as a fill value for an image of `mode`."""
    raw = value.lstrip("#")
    rgba = tuple(int(raw[i : i + 2], 16) for i in range(0, len(raw), 2))
    if len(rgba) == 3:
        rgba = (*rgba, 255)
    if mode == "L":
        r, g, b, _ = rgba
        return round(0.299 * r + 0.587 * g + 0.114 * b)
    return rgba if mode == "RGBA" else rgba[:3]


def _mode_for_fill(img: Image.Image, color: str) -> Image.Image:
    """Promote `img` so that `color` can be painted on it faithfully."""
    raw = color.lstrip("#")
    translucent = len(raw) == 8 and raw[6:] != "ff"
    grey = raw[0:2] == raw[2:4] == raw[4:6]
    if translucent and img.mode != "RGBA":
        return img.convert("RGBA")
    if img.mode == "L" and not grey:
        return img.convert("RGB")
    return img


def _box_pixels(args: dict[str, Any], width: int, height: int, key: str = "box") -> list[int]:
    """The box in integer pixels, checked against the image bounds."""
    left, top, right, bottom = args[key]
    if args.get("relative"):
        left, right = left * width, right * width
        top, bottom = top * height, bottom * height
    box = [round(left), round(top), round(right), round(bottom)]
    if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
        raise ToolArgumentError(
            f"{key} {box} is outside the {width}x{height} image"
        )
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ToolArgumentError(f"{key} {box} is empty after rounding")
    return box


def _check_box(args: dict[str, Any], key: str = "box") -> None:
    left, top, right, bottom = args[key]
    if right <= left or bottom <= top:
        raise ToolArgumentError(f"{key} needs right > left and bottom > top, got {args[key]}")
    if min(args[key]) < 0:
        raise ToolArgumentError(f"{key} coordinates must be >= 0, got {args[key]}")
    if args.get("relative") and max(args[key]) > 1:
        raise ToolArgumentError(f"relative {key} coordinates must be in [0, 1], got {args[key]}")


# ---------------------------------------------------------------------- resize


def _parse_aspect(text: str) -> float:
    w, _, h = text.partition(":")
    return float(w) / float(h)


def _check_resize(args: dict[str, Any]) -> None:
    _check_output(args)
    width, height, aspect = args.get("width"), args.get("height"), args.get("aspect")
    mode = args["mode"]
    if width is None and height is None and aspect is None:
        raise ToolArgumentError("give width and/or height, or aspect")
    if aspect is not None:
        if width is not None and height is not None:
            raise ToolArgumentError("give aspect with at most one of width/height, not both")
        if mode == "fit":
            raise ToolArgumentError("aspect needs mode crop, pad or stretch (fit keeps the aspect)")
        if _parse_aspect(aspect) <= 0:
            raise ToolArgumentError(f"aspect {aspect!r} must be positive")


def _fit_size(src: tuple[int, int], box: tuple[int, int], cover: bool) -> tuple[int, int]:
    """Scale `src` to fit inside (or, with cover, to cover) `box`, keeping its aspect."""
    sw, sh = src
    scale = (max if cover else min)(box[0] / sw, box[1] / sh)
    return max(1, round(sw * scale)), max(1, round(sh * scale))


def _target_box(src: tuple[int, int], args: dict[str, Any]) -> tuple[int, int]:
    sw, sh = src
    width, height, aspect = args.get("width"), args.get("height"), args.get("aspect")
    if aspect is None:
        if width is not None and height is not None:
            return width, height
        if width is not None:
            return width, max(1, round(sh * width / sw))
        return max(1, round(sw * height / sh)), height
    ratio = _parse_aspect(aspect)
    # The box of that aspect that the image covers (crop) or that covers the image (pad).
    if (sw / sh > ratio) == (args["mode"] == "crop"):
        bw, bh = sh * ratio, float(sh)
    else:
        bw, bh = float(sw), sw / ratio
    if width is not None:
        bw, bh = float(width), width / ratio
    elif height is not None:
        bw, bh = height * ratio, float(height)
    return max(1, round(bw)), max(1, round(bh))


def resize_image(img: Image.Image, args: dict[str, Any]) -> Image.Image:
    resample = _RESAMPLE[args["resample"]]
    box = _target_box(img.size, args)
    if max(box) > MAX_SIDE:
        raise ToolArgumentError(f"target size {box[0]}x{box[1]} exceeds {MAX_SIDE} pixels a side")
    mode = args["mode"]
    only_one_side = args.get("aspect") is None and (args.get("width") is None) != (
        args.get("height") is None
    )
    if mode == "stretch" or only_one_side:
        return img.resize(box, resample)
    if mode == "fit":
        return img.resize(_fit_size(img.size, box, cover=False), resample)
    if mode == "crop":
        scaled = img.resize(_fit_size(img.size, box, cover=True), resample)
        left = (scaled.width - box[0]) // 2
        top = (scaled.height - box[1]) // 2
        return scaled.crop((left, top, left + box[0], top + box[1]))
    # pad
    img = _mode_for_fill(img, args["color"])
    scaled = img.resize(_fit_size(img.size, box, cover=False), resample)
    canvas = Image.new(img.mode, box, parse_color(args["color"], img.mode))
    canvas.paste(scaled, ((box[0] - scaled.width) // 2, (box[1] - scaled.height) // 2))
    return canvas


@tool(
    name="image_resize",
    version=VERSION,
    family="image",
    description=(
        "Resize an image to width x height or to an aspect ratio. mode: stretch (exact size, "
        "aspect not kept), fit (inside the box, aspect kept), pad (fit, then centre on a "
        "`color` canvas of the exact box), crop (cover the box, then centre-crop). With only "
        "width or only height, the other side follows the aspect. With aspect ('16:9') the "
        "box is the largest inside (crop) or smallest around (pad) the image, optionally "
        "scaled to the given width or height."
    ),
    parameters=_schema(
        {
            "width": _SIDE,
            "height": _SIDE,
            "aspect": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?:[0-9]+(\.[0-9]+)?$"},
            "mode": {"enum": ["stretch", "fit", "pad", "crop"], "default": "fit"},
            "resample": {"enum": sorted(_RESAMPLE), "default": "lanczos"},
            "color": {**_COLOR, "default": "#000000", "description": "padding colour"},
        },
        [],
    ),
    check=_check_resize,
)
def image_resize(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return save_image(ctx, resize_image(load_image(ctx, args["input"]), args), args)


# ------------------------------------------------------------------ crop / pad


def _check_crop(args: dict[str, Any]) -> None:
    _check_output(args)
    _check_box(args)


@tool(
    name="image_crop",
    version=VERSION,
    family="image",
    description="Crop an image to box [left, top, right, bottom] (pixels, or fractions).",
    parameters=_schema(
        {"box": _BOX, "relative": {"type": "boolean", "default": False}}, ["box"]
    ),
    check=_check_crop,
)
def image_crop(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    img = load_image(ctx, args["input"])
    return save_image(ctx, img.crop(tuple(_box_pixels(args, img.width, img.height))), args)


_MARGIN = {"type": "integer", "minimum": 0, "maximum": MAX_SIDE, "default": 0}


def _check_pad(args: dict[str, Any]) -> None:
    _check_output(args)
    if not any(args[k] for k in ("left", "top", "right", "bottom")):
        raise ToolArgumentError("pad needs at least one of left, top, right, bottom > 0")


@tool(
    name="image_pad",
    version=VERSION,
    family="image",
    description="Add margins (pixels) of a solid colour around an image.",
    parameters=_schema(
        {
            "left": _MARGIN,
            "top": _MARGIN,
            "right": _MARGIN,
            "bottom": _MARGIN,
            "color": {**_COLOR, "default": "#000000"},
        },
        [],
    ),
    check=_check_pad,
)
def image_pad(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    img = _mode_for_fill(load_image(ctx, args["input"]), args["color"])
    size = (img.width + args["left"] + args["right"], img.height + args["top"] + args["bottom"])
    if max(size) > MAX_SIDE:
        raise ToolArgumentError(f"padded size {size[0]}x{size[1]} exceeds {MAX_SIDE} a side")
    canvas = Image.new(img.mode, size, parse_color(args["color"], img.mode))
    canvas.paste(img, (args["left"], args["top"]))
    return save_image(ctx, canvas, args)


# --------------------------------------------------------------------- compose


def _check_compose(args: dict[str, Any]) -> None:
    _check_output(args)
    labels = args.get("labels")
    if labels is not None and len(labels) != len(args["inputs"]):
        raise ToolArgumentError(
            f"labels has {len(labels)} entries for {len(args['inputs'])} inputs"
        )


def _grid_shape(count: int, args: dict[str, Any]) -> tuple[int, int]:
    layout = args["layout"]
    if layout == "horizontal":
        return count, 1
    if layout == "vertical":
        return 1, count
    columns = args.get("columns") or math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@tool(
    name="image_compose",
    version=VERSION,
    family="image",
    description=(
        "Compose frames into a grid (row-major, `columns` wide) or a horizontal/vertical "
        "strip. Each frame is fitted and centred in a cell (default: the largest frame), "
        "separated by `gap` pixels on a `background` colour; optional labels are drawn in "
        "each cell's top-left corner."
    ),
    parameters={
        "type": "object",
        "properties": {
            "inputs": {
                "type": "array",
                "items": _INPUT,
                "minItems": 1,
                "maxItems": 64,
            },
            "layout": {"enum": ["grid", "horizontal", "vertical"], "default": "grid"},
            "columns": {"type": "integer", "minimum": 1, "maximum": 64},
            "cell_width": _SIDE,
            "cell_height": _SIDE,
            "gap": {"type": "integer", "minimum": 0, "maximum": 1024, "default": 0},
            "background": {**_COLOR, "default": "#ffffff"},
            "labels": {
                "type": "array",
                "items": {"type": "string", "maxLength": 32},
                "maxItems": 64,
            },
            "label_size": {"type": "integer", "minimum": 6, "maximum": 256, "default": 16},
            "output": _OUTPUT,
            "format": _FORMAT,
            "quality": _QUALITY,
        },
        "required": ["inputs", "output"],
        "additionalProperties": False,
    },
    check=_check_compose,
)
def image_compose(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    frames = [load_image(ctx, ref) for ref in args["inputs"]]
    mode = "RGBA" if any(f.mode == "RGBA" for f in frames) else "RGB"
    frames = [f.convert(mode) for f in frames]
    cell = (
        args.get("cell_width") or max(f.width for f in frames),
        args.get("cell_height") or max(f.height for f in frames),
    )
    columns, rows = _grid_shape(len(frames), args)
    gap = args["gap"]
    size = (columns * cell[0] + (columns - 1) * gap, rows * cell[1] + (rows - 1) * gap)
    if max(size) > MAX_SIDE:
        raise ToolArgumentError(f"composed size {size[0]}x{size[1]} exceeds {MAX_SIDE} a side")
    canvas = Image.new(mode, size, parse_color(args["background"], mode))
    draw = ImageDraw.Draw(canvas)
    font = _font(args["label_size"]) if args.get("labels") else None
    for index, frame in enumerate(frames):
        col, row = index % columns, index // columns
        x0, y0 = col * (cell[0] + gap), row * (cell[1] + gap)
        if frame.size != cell:
            frame = frame.resize(_fit_size(frame.size, cell, cover=False), Image.Resampling.LANCZOS)
        canvas.paste(frame, (x0 + (cell[0] - frame.width) // 2, y0 + (cell[1] - frame.height) // 2))
        if font is not None:
            label = args["labels"][index]
            pad = max(2, args["label_size"] // 4)
            left, top, right, bottom = draw.textbbox((x0 + pad, y0 + pad), label, font=font)
            draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill="white")
            draw.text((x0 + pad, y0 + pad), label, fill="black", font=font)
    values = save_image(ctx, canvas, args)
    values.update(columns=columns, rows=rows, cell_width=cell[0], cell_height=cell[1])
    return values


# ------------------------------------------------------------------- highlight


def _check_highlight(args: dict[str, Any]) -> None:
    _check_output(args)
    _check_box(args)


@tool(
    name="image_highlight",
    version=VERSION,
    family="image",
    description=(
        "Draw the outline of a rectangle or ellipse around box [left, top, right, bottom] "
        "(pixels, or fractions with relative=true), `line_width` pixels thick, drawn inside "
        "the box."
    ),
    parameters=_schema(
        {
            "box": _BOX,
            "relative": {"type": "boolean", "default": False},
            "shape": {"enum": ["rectangle", "ellipse"], "default": "rectangle"},
            "color": {**_COLOR, "default": "#ff0000"},
            "line_width": {"type": "integer", "minimum": 1, "maximum": 256, "default": 3},
        },
        ["box"],
    ),
    check=_check_highlight,
)
def image_highlight(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    img = _mode_for_fill(load_image(ctx, args["input"]), args["color"])
    left, top, right, bottom = _box_pixels(args, img.width, img.height)
    # PIL boxes are inclusive: the outline covers exactly [left, right) x [top, bottom).
    xy = (left, top, right - 1, bottom - 1)
    color = parse_color(args["color"], img.mode)
    if img.mode == "RGBA" and len(args["color"]) == 9:
        overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
        _outline(ImageDraw.Draw(overlay), args["shape"], xy, color, args["line_width"])
        img = Image.alpha_composite(img, overlay)
    else:
        _outline(ImageDraw.Draw(img), args["shape"], xy, color, args["line_width"])
    values = save_image(ctx, img, args)
    values["box"] = [left, top, right, bottom]
    return values


def _outline(
    draw: ImageDraw.ImageDraw, shape: str, xy: tuple[int, int, int, int], color: Any, width: int
) -> None:
    if shape == "ellipse":
        draw.ellipse(xy, outline=color, width=width)
    else:
        draw.rectangle(xy, outline=color, width=width)


# ------------------------------------------------------------- re-encode / blur


@tool(
    name="image_reencode",
    version=VERSION,
    family="image",
    description=(
        "Re-encode an image (PNG, or JPEG at `quality` 1-100), dropping all metadata; "
        "e.g. to add controlled compression artefacts."
    ),
    parameters=_schema({}, []),
    check=_check_output,
)
def image_reencode(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return save_image(ctx, load_image(ctx, args["input"]), args)


@tool(
    name="image_blur",
    version=VERSION,
    family="image",
    description="Blur an image with a Gaussian (default) or box filter of `radius` pixels.",
    parameters=_schema(
        {
            "radius": {"type": "number", "minimum": 0, "maximum": 256, "default": 2},
            "kind": {"enum": ["gaussian", "box"], "default": "gaussian"},
        },
        [],
    ),
    check=_check_output,
)
def image_blur(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    img = load_image(ctx, args["input"])
    if args["kind"] == "box":
        blurred = img.filter(ImageFilter.BoxBlur(args["radius"]))
    else:
        blurred = img.filter(ImageFilter.GaussianBlur(args["radius"]))
    return save_image(ctx, blurred, args)
