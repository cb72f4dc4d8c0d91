"""Media inlined into a page: a data: URI and the kind of element that shows it."""

from __future__ import annotations

import base64
import mimetypes
from typing import Literal

MediaKind = Literal["image", "audio", "video", "other"]


def mime_type(name: str) -> str:
    mime, _ = mimetypes.guess_type(name)
    return mime or "application/octet-stream"


def media_kind(name: str) -> MediaKind:
    major = mime_type(name).split("/", 1)[0]
    if major == "image":
        return "image"
    if major == "audio":
        return "audio"
    if major == "video":
        return "video"
    return "other"


def data_uri(name: str, data: bytes) -> str:
    """`data:<mime>;base64,...`: the page needs no file beside it and fetches nothing."""
    return f"data:{mime_type(name)};base64,{base64.b64encode(data).decode('ascii')}"
