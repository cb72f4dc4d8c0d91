"""Lines of text drawn into a PNG, deterministically (same lines → same bytes).

Uses Pillow's bundled default font at a fixed size, so the bytes depend only
on the text and the installed Pillow version — never on system fonts.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

_MARGIN = 16
_SIZE = 18
_LEADING = 8


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_png(lines: list[str], *, size: int = _SIZE) -> bytes:
    """Black text on white, one row per line, PNG bytes without metadata chunks."""
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    width = max((int(probe.textlength(line, font=font)) for line in lines), default=0)
    row = size + _LEADING
    image = Image.new("L", (width + 2 * _MARGIN, len(lines) * row + 2 * _MARGIN - _LEADING), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((_MARGIN, _MARGIN + i * row), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()
