"""Where the watcher (`benchagent watch`) learns that a model exists: its sources.

    openai:BASE_URL   an OpenAI-compatible server's model list (`GET BASE_URL/models`;
                      BASE_URL as the OpenAI SDK takes it, e.g. http://host:8000/v1); each
                      id becomes the spec `openai:ID@BASE_URL`
    folder:DIR        one model per spec file in DIR (`*.json`, `*.yaml`, `*.yml`:
                      `{model: SPEC, key_env: NAME}`), for machines without network
    catalogue         the embedded local models (tools/llm/local_models.py) whose
                      runtime and weights this machine has

`parse_source` checks a source as the user wrote it (`SourceError`, one line: unknown kind,
a URL that is not http(s), credentials inside a URL, a folder that does not exist).
`list_models` raises `SourceDown` when the source cannot be read right now: the watcher
logs it and asks again at its next poll. The API key is read from the variable named by
`key_env` at each request and never appears in an error, a log line or an event.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import openai
import structlog
import yaml

from tools.llm.clients import PLACEHOLDER_KEY, parse_model_spec

log = structlog.get_logger(__name__)

SOURCE_FORMS = "openai:BASE_URL, folder:DIR or catalogue"
SPEC_FILE_SUFFIXES = (".json", ".yaml", ".yml")
DEFAULT_TIMEOUT_S = 10.0


class SourceError(ValueError):
    """A source as written cannot be used; the message is one line for the user."""


class SourceDown(Exception):
    """The source cannot be read now (unreachable, an HTTP error, an unreadable answer)."""


@dataclass(frozen=True)
class ListedModel:
    """A model a source lists: its spec and the variable holding its key ("" = none)."""

    spec: str
    key_env: str = ""


class ModelSource(Protocol):
    name: str  # the source's identity in events: openai:URL, folder:DIR, catalogue

    async def list_models(self) -> list[ListedModel]:
        """Every model the source lists now; `SourceDown` if it cannot be read."""
        ...


def parse_source(text: str, key_env: str) -> ModelSource:
    """The source `--source TEXT` names; `SourceError` if it is not one."""
    kind, sep, rest = text.strip().partition(":")
    if kind == "catalogue" and not sep:
        return CatalogueSource()
    if kind == "openai" and sep:
        return OpenAISource(check_http_url(rest), key_env)
    if kind == "folder" and sep and rest:
        folder = Path(rest).expanduser().resolve()
        if not folder.is_dir():
            raise SourceError(f"--source {text}: no such folder {folder}")
        return FolderSource(folder, key_env)
    raise SourceError(f"--source {text!r}: unknown source kind {kind!r}; expected {SOURCE_FORMS}")


def check_http_url(url: str) -> str:
    """An http(s) URL with a host and no credentials, without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"--source openai:{url}: not an http(s) URL (e.g. "
                          "openai:http://localhost:8000/v1)")
    if parts.username or parts.password:
        raise SourceError(f"--source openai:{parts.scheme}://…@{parts.hostname}: put the key "
                          "in the variable named by --llm-key-env, not in the URL")
    return url.rstrip("/")


def _usable_spec(spec: str, where: str) -> bool:
    try:
        parse_model_spec(spec)
    except ValueError as exc:
        log.warning("watch.model_skipped", where=where, reason=str(exc))
        return False
    return True


class OpenAISource:
    """The model list of an OpenAI-compatible server."""

    def __init__(self, base_url: str, key_env: str, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.base_url = base_url
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.name = f"openai:{base_url}"

    async def list_models(self) -> list[ListedModel]:
        # The SDK sends the key as the server expects it; no retries: the next poll is one.
        client = openai.AsyncOpenAI(base_url=self.base_url, timeout=self.timeout_s,
                                    max_retries=0,
                                    api_key=os.environ.get(self.key_env) or PLACEHOLDER_KEY)
        try:
            ids = [str(m.id) async for m in client.models.list()]
        except openai.APIStatusError as exc:
            raise SourceDown(f"{self.name}: HTTP {exc.status_code}") from None
        except openai.APIError as exc:  # connection refused, timeout, not a model list
            raise SourceDown(f"{self.name}: {type(exc).__name__}") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise SourceDown(f"{self.name}: not an OpenAI model list ({exc!r})") from None
        finally:
            await client.close()
        specs = [f"openai:{i}@{self.base_url}" for i in sorted(set(ids))]
        return [ListedModel(s, self.key_env) for s in specs if _usable_spec(s, self.name)]


class FolderSource:
    """One model per spec file; a file that cannot be read is skipped with a warning."""

    def __init__(self, folder: Path, key_env: str) -> None:
        self.folder = folder
        self.key_env = key_env
        self.name = f"folder:{folder}"

    async def list_models(self) -> list[ListedModel]:
        try:
            files = sorted(p for p in self.folder.iterdir()
                           if p.suffix in SPEC_FILE_SUFFIXES and p.is_file())
        except OSError as exc:
            raise SourceDown(f"{self.name}: {exc.strerror}") from None
        listed: dict[str, ListedModel] = {}
        for path in files:
            model = self._read(path)
            if model is not None:
                listed.setdefault(model.spec, model)
        return list(listed.values())

    def _read(self, path: Path) -> ListedModel | None:
        try:
            text = path.read_text()
            doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            log.warning("watch.spec_file_unreadable", file=str(path), error=str(exc)[:200])
            return None
        spec = doc.get("model") if isinstance(doc, dict) else None
        key_env = doc.get("key_env", self.key_env) if isinstance(doc, dict) else self.key_env
        if not isinstance(spec, str) or not isinstance(key_env, str):
            log.warning("watch.spec_file_unreadable", file=str(path),
                        error="expected {model: SPEC, key_env: NAME}")
            return None
        return ListedModel(spec.strip(), key_env) if _usable_spec(spec, str(path)) else None


class CatalogueSource:
    """The embedded local models that can run here (runtime installed, weights present)."""

    name = "catalogue"

    async def list_models(self) -> list[ListedModel]:
        from tools.llm.clients import check_available
        from tools.llm.local_models import LOCAL_MODELS

        listed = []
        for name in LOCAL_MODELS:
            spec = f"local:{name}"
            try:
                check_available(spec, key_env=None)
            except ValueError:
                continue  # not on this machine (yet): listed once its weights are there
            listed.append(ListedModel(spec))
        return listed
