"""The Jinja2 environment of the quality pages (templates in replay/quality/templates)."""

from __future__ import annotations

import functools

import jinja2

from replay.quality.media import data_uri, media_kind


def letter(index: int) -> str:
    return chr(ord("A") + index)


def pct(value: float | None, digits: int = 1) -> str:
    """A 0-1 rate as a percentage without the sign; "–" when there is none."""
    return "–" if value is None else f"{100 * value:.{digits}f}"


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("replay.quality", "templates"),
        autoescape=True,  # every value from a run is text, never markup
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["letter"] = letter
    env.filters["pct"] = pct
    env.filters["num"] = num
    env.globals["data_uri"] = data_uri
    env.globals["media_kind"] = media_kind
    return env
