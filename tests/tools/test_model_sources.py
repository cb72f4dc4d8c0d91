"""The watcher's model sources: an OpenAI-compatible server's model list (a real HTTP
server whose list changes and which goes down), a folder of spec files, the catalogue;
and the scripted server's own model list."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from tools.llm.scripted_server import ScriptedServer
from tools.model_sources import (
    CatalogueSource,
    FolderSource,
    ListedModel,
    OpenAISource,
    SourceDown,
    SourceError,
    parse_source,
)


def echo(messages: list[dict[str, Any]], schema: Any) -> str:
    return "fine"


async def test_an_openai_source_lists_the_server_models_as_it_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCH_TEST_KEY", "sk-test-secret")
    with ScriptedServer(models={"b": echo, "a": echo}) as server:
        source = parse_source(f"openai:{server.base_url}/", "WATCH_TEST_KEY")
        assert source.name == f"openai:{server.base_url}"
        assert await source.list_models() == [
            ListedModel(f"openai:{m}@{server.base_url}", "WATCH_TEST_KEY") for m in ("a", "b")]
        assert server.keys["sk-test-secret"] == 1  # the key is sent...
        server.remove_model("a")
        server.add_model("c", echo)
        assert [m.spec for m in await source.list_models()] == [
            f"openai:{m}@{server.base_url}" for m in ("b", "c")]
        server.go_down()
        with pytest.raises(SourceDown) as down:
            await source.list_models()
        assert "sk-test-secret" not in str(down.value)  # ...and never shown
        server.come_back()
        assert len(await source.list_models()) == 2


async def test_a_server_that_answers_garbage_is_down_not_fatal() -> None:
    with ScriptedServer() as server:
        source = OpenAISource(server.base_url + "/nowhere", "UNSET_KEY_FOR_TEST")
        with pytest.raises(SourceDown, match="HTTP 404"):
            await source.list_models()


async def test_a_folder_source_lists_one_model_per_spec_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"model": "openai:a@http://h:1/v1"}))
    (tmp_path / "b.yaml").write_text("model: scripted:brain\nkey_env: OTHER_KEY\n")
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "badspec.yml").write_text("model: nonsense\n")
    (tmp_path / "notes.txt").write_text("model: scripted:ignored\n")
    source = parse_source(f"folder:{tmp_path}", "WATCH_TEST_KEY")
    assert isinstance(source, FolderSource) and source.name == f"folder:{tmp_path}"
    assert await source.list_models() == [
        ListedModel("openai:a@http://h:1/v1", "WATCH_TEST_KEY"),
        ListedModel("scripted:brain", "OTHER_KEY")]
    (tmp_path / "a.json").unlink()
    assert [m.spec for m in await source.list_models()] == ["scripted:brain"]
    for child in tmp_path.iterdir():
        child.unlink()
    tmp_path.rmdir()
    with pytest.raises(SourceDown):
        await source.list_models()


async def test_the_catalogue_lists_the_local_models_this_machine_can_run() -> None:
    from tools.llm.clients import check_available
    from tools.llm.local_models import LOCAL_MODELS

    runnable = []
    for name in LOCAL_MODELS:
        try:
            check_available(f"local:{name}", key_env=None)
        except ValueError:
            continue
        runnable.append(f"local:{name}")
    source = parse_source("catalogue", "WATCH_TEST_KEY")
    assert isinstance(source, CatalogueSource)
    assert [m.spec for m in await source.list_models()] == runnable


@pytest.mark.parametrize(("text", "says"), [
    ("openai:ftp://h/v1", "not an http(s) URL"),
    ("openai:", "not an http(s) URL"),
    ("openai:http:///v1", "not an http(s) URL"),
    ("openai:https://me:pw@h/v1", "--llm-key-env"),
    ("folder:/no/such/folder/here", "no such folder"),
    ("folder:", "unknown source kind 'folder'"),
    ("catalogue:extra", "unknown source kind 'catalogue'"),
    ("s3:bucket", "unknown source kind 's3'"),
])
def test_bad_sources_are_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(SourceError) as refused:
        parse_source(text, "WATCH_TEST_KEY")
    assert says in str(refused.value)
    assert "\n" not in str(refused.value) and "pw" not in str(refused.value)


def test_the_scripted_server_refuses_a_model_it_does_not_serve_and_503s_when_down() -> None:
    with ScriptedServer(models={"a": echo}) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = json.dumps({"model": "zz", "messages": [{"role": "user", "content": "hi"}]})
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 404
        assert json.loads(response.read())["error"]["code"] == "model_not_found"
        port = server.port
        server.go_down()  # the open (keep-alive) connection is cut, new ones are refused
        with pytest.raises(OSError):
            conn.request("GET", "/v1/models")
            conn.getresponse()
        with pytest.raises(OSError):
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/v1/models")
        server.come_back()
        assert server.port == port
        again = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        again.request("GET", "/v1/models")
        assert [m["id"] for m in json.loads(again.getresponse().read())["data"]] == ["a"]
        assert server.calls_by_model == {"zz": 1}
        assert server.outcomes["404"] == 1
