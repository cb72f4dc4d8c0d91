"""Headless Debian Chromium driven by playwright, for tests that open a page for real.

`make browser` (a prerequisite of `make test`) installs /usr/bin/chromium; playwright drives
that executable and never downloads a browser of its own. Each session gets a fresh profile
directory. `Page` records console messages, page errors and every request, so a test can
fail on any console error and on anything fetched from outside the page.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

CHROMIUM = Path(os.environ.get("BENCHAGENT_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class PageLog:
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for

    def problems(self) -> list[str]:
        return [f"console.{t}: {m}" for t, m in self.console if t == "error"] + [
            f"page error: {e}" for e in self.errors]


def chromium_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (`make browser` installs Debian's chromium)"
    return None


@contextmanager
def open_page(url: str, *, width: int = 1200, height: int = 900) -> Iterator[tuple[object, PageLog]]:
    """A loaded page at `url` and its log. Playwright's sync API; the browser closes on exit."""
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": width, "height": height}, accept_downloads=True)
        try:
            page = context.new_page()
            page.on("console", lambda m: log.console.append((m.type, m.text)))
            page.on("pageerror", lambda e: log.errors.append(str(e)))
            page.on("request", lambda r: log.requests.append(r.url))
            page.goto(url, wait_until="load")
            yield page, log
        finally:
            context.close()


def is_blank(png: bytes) -> bool:
    """True when a screenshot has (almost) one colour: nothing was drawn."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20) or []
    return len(colors) < 16
