"""The tool registry: schemas for planning, validation of planned calls, recorded results."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tools.registry import (
    Tool,
    ToolArgumentError,
    ToolContext,
    ToolExecutionError,
    ToolRegistry,
    default_registry,
    load_builtin_tools,
)
from tools.workspace import PathEscape, Workspace

REPEAT_SCHEMA = {
    "type": "object",
    "properties": {
        "input": {"type": "string", "format": "ws-path"},
        "output": {"type": "string", "format": "ws-output-path"},
        "times": {"type": "integer", "minimum": 1, "maximum": 10, "default": 2},
        "salt": {"type": "boolean", "default": False},
    },
    "required": ["input", "output"],
    "additionalProperties": False,
}


def _check_repeat(args: dict[str, Any]) -> None:
    if args["output"].endswith(".forbidden"):
        raise ToolArgumentError("output must not end with .forbidden")


def _repeat(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    data = ctx.read_bytes(args["input"]) * args["times"]
    if args["salt"]:
        data += bytes(ctx.rng().integers(0, 256, 8, dtype="uint8"))
    ctx.write_file("copy", args["output"], data)
    return {"length": len(data)}


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(
        Tool(
            name="repeat",
            version="3",
            description="Repeat a file's bytes.",
            parameters=REPEAT_SCHEMA,
            func=_repeat,
            check=_check_repeat,
        )
    )
    return reg


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.write_bytes("in.bin", b"ab")
    return workspace


def test_run_records_files_with_sha256_and_values(registry: ToolRegistry, ws: Workspace) -> None:
    result = registry.run("repeat", {"input": "in.bin", "output": "out/x.bin"}, ws, seed=1)
    assert result.tool == "repeat" and result.version == "3"
    assert result.arguments == {"input": "in.bin", "output": "out/x.bin", "salt": False, "times": 2}
    produced = result.files["copy"]
    assert produced.path == "out/x.bin"
    assert produced.sha256 == hashlib.sha256(b"abab").hexdigest()
    assert ws.read_bytes("out/x.bin") == b"abab"
    assert result.values == {"length": 4}
    assert result.outputs() == {"copy": produced.sha256, "length": "4"}


def test_seeded_randomness_is_deterministic(registry: ToolRegistry, ws: Workspace) -> None:
    args = {"input": "in.bin", "output": "s.bin", "salt": True}
    first = registry.run("repeat", args, ws, seed=5).files["copy"].sha256
    again = registry.run("repeat", args, ws, seed=5).files["copy"].sha256
    other = registry.run("repeat", args, ws, seed=6).files["copy"].sha256
    assert first == again != other


def test_describe_lists_schemas_for_planning(registry: ToolRegistry) -> None:
    (entry,) = registry.describe()
    assert entry["name"] == "repeat" and entry["version"] == "3"
    assert entry["parameters"] == REPEAT_SCHEMA
    json.dumps(entry)  # JSON-able, so it can go into a prompt


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"input": "in.bin"}, "'output' is a required property"),
        ({"input": "in.bin", "output": "o", "times": 0}, "'times': 0 is less than the minimum"),
        ({"input": "in.bin", "output": "o", "times": 11}, "greater than the maximum of 10"),
        ({"input": "in.bin", "output": "o", "times": "2"}, "is not of type 'integer'"),
        ({"input": "in.bin", "output": "o", "colour": 1}, "'colour' was unexpected"),
        ({"input": "../x", "output": "o"}, "argument 'input'"),
        ({"input": "/etc/passwd", "output": "o"}, "absolute"),
        ({"input": "in.bin", "output": "src:o"}, "read-only"),
        ({"input": "in.bin", "output": "o.forbidden"}, "must not end with .forbidden"),
    ],
)
def test_validate_refuses_bad_planned_calls(
    registry: ToolRegistry, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ToolArgumentError, match=message) as info:
        registry.validate("repeat", args)
    assert info.value.tool == "repeat"
    assert str(info.value).startswith("repeat: ")


def test_validate_fills_defaults_and_checks_sources(
    registry: ToolRegistry, ws: Workspace
) -> None:
    assert registry.validate("repeat", {"input": "ds:a.bin", "output": "o"})["times"] == 2
    with pytest.raises(ToolArgumentError, match="not mounted"):
        registry.validate("repeat", {"input": "ds:a.bin", "output": "o"}, ws)


def test_unknown_tool_and_version_pin(registry: ToolRegistry) -> None:
    with pytest.raises(ToolArgumentError, match="unknown tool 'nope'.*known: repeat"):
        registry.validate("nope", {})
    assert registry.validate("repeat@3", {"input": "a", "output": "b"})
    with pytest.raises(ToolArgumentError, match="version '2' requested"):
        registry.validate("repeat@2", {"input": "a", "output": "b"})


def test_run_turns_escapes_and_missing_files_into_argument_errors(
    registry: ToolRegistry, ws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "secret.bin").write_bytes(b"s")
    (ws.root / "link.bin").symlink_to(tmp_path / "secret.bin")
    with pytest.raises(ToolArgumentError, match="outside") as info:
        registry.run("repeat", {"input": "link.bin", "output": "o"}, ws)
    assert isinstance(info.value.__cause__, PathEscape)
    with pytest.raises(ToolArgumentError, match="input file not found: missing.bin"):
        registry.run("repeat", {"input": "missing.bin", "output": "o"}, ws)


def test_library_failures_are_execution_errors(tmp_path: Path) -> None:
    reg = ToolRegistry()

    @reg.tool(
        name="boom",
        version="1",
        description="fails",
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
    )
    def boom(ctx: ToolContext, args: dict[str, Any]) -> None:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ToolExecutionError, match="boom: ZeroDivisionError"):
        reg.run("boom", {}, Workspace(tmp_path))


def test_tool_definitions_are_checked() -> None:
    ok = {"type": "object", "properties": {}, "additionalProperties": False}
    with pytest.raises(ValueError, match="tool name"):
        Tool(name="Image.Resize", version="1", description="", parameters=ok, func=_repeat)
    with pytest.raises(ValueError, match="additionalProperties"):
        Tool(name="t", version="1", description="", parameters={"type": "object"}, func=_repeat)
    with pytest.raises(jsonschema.SchemaError):
        Tool(
            name="t",
            version="1",
            description="",
            parameters={**ok, "properties": {"x": {"type": "nonsense"}}},
            func=_repeat,
        )
    reg = ToolRegistry()
    reg.register(Tool(name="t", version="1", description="", parameters=ok, func=_repeat))
    with pytest.raises(ValueError, match="already registered"):
        reg.register(Tool(name="t", version="2", description="", parameters=ok, func=_check_repeat))


EXPECTED_BUILTINS = {
    "image_resize",
    "image_crop",
    "image_pad",
    "image_compose",
    "image_highlight",
    "image_reencode",
    "image_blur",
    "data_convert",
    "data_metadata",
    "data_patch",
    "data_decompose",
    "retrieval_search",
}


def test_default_registry_loads_builtin_tools_with_valid_schemas() -> None:
    registry = load_builtin_tools()
    assert registry is default_registry
    assert EXPECTED_BUILTINS <= set(registry.names())
    for entry in registry.describe():
        jsonschema.Draft202012Validator.check_schema(entry["parameters"])
        assert entry["description"] and entry["version"]
        json.dumps(entry)


def test_a_value_named_like_a_file_is_refused(tmp_path: Path) -> None:
    reg = ToolRegistry()

    @reg.tool(
        name="clash",
        version="1",
        description="writes 'out' and returns 'out'",
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
    )
    def clash(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        ctx.write_file("out", "o.bin", b"x")
        return {"out": 1}

    with pytest.raises(ToolExecutionError, match="both a file and a value"):
        reg.run("clash", {}, Workspace(tmp_path))


def test_loader_runs_once_on_first_lookup() -> None:
    calls: list[int] = []
    ok = {"type": "object", "properties": {}, "additionalProperties": False}

    def loader() -> None:
        calls.append(1)
        reg.register(Tool(name="lazy", version="1", description="", parameters=ok, func=_repeat))
        assert "lazy" in reg  # a lookup from inside the loader does not recurse

    reg = ToolRegistry(loader=loader)
    assert calls == []
    assert reg.names() == ["lazy"]
    assert reg.get("lazy").version == "1"
    assert calls == [1]
