"""Pure tools and the registry that lists, validates and runs them.

A pure tool (Benchmark Agent, appendix A.3) is a deterministic, parameterised
operator: same arguments + same seed + same input bytes → same output bytes.

Defining a tool (any module; the decorator registers into `default_registry`):

    from tools.registry import ToolArgumentError, ToolContext, tool

    @tool(
        name="image_blur",                 # ^[a-z][a-z0-9_]{0,63}$ (function-calling safe)
        version="1",                       # bump when output bytes change
        description="Gaussian blur of an image.",
        parameters={                       # JSON Schema draft 2020-12, an object with
            "type": "object",              # "additionalProperties": false
            "properties": {
                "input": {"type": "string", "format": "ws-path"},
                "output": {"type": "string", "format": "ws-output-path"},
                "radius": {"type": "number", "minimum": 0, "maximum": 100, "default": 2},
            },
            "required": ["input", "output"],
            "additionalProperties": False,
        },
        check=None,                        # optional semantic check(args): raise ToolArgumentError
    )
    def image_blur(ctx: ToolContext, args: dict) -> dict | None:
        data = ctx.read_bytes(args["input"])
        ctx.write_file("image", args["output"], blurred_bytes)   # recorded with its sha256
        noise = ctx.rng("grain")              # the only randomness: from (tool, seed, key)
        return {"width": 64}                  # optional JSON-able values; keys must differ
                                              # from the logical names of written files

Path arguments use the string formats "ws-path" (input: a workspace ref or a
mounted source "name:rel") and "ws-output-path" (workspace only); both are
checked lexically by `validate` (no absolute paths, no "..", no writes into
sources) and again against the disk by the `Workspace` at run time.

Using tools (Orchestrator, Grounding, replay):

    from tools.registry import default_registry
    default_registry.describe()                      # [{name, version, description, parameters}]
    args = default_registry.validate("image_blur", planned_args)   # defaults filled in
    result = default_registry.run("image_blur", args, workspace, seed=7)
    result.files["image"].path, result.files["image"].sha256, result.values
    result.outputs()                                 # dict[str, str] for ToolApplied.outputs

`name` may carry a version pin, "image_blur@1": a mismatch is a ToolArgumentError.

Errors: `ToolArgumentError` (unknown tool, schema or semantic violation, a path
that escapes the workspace, a missing input file) means the *call* is wrong and
should be re-planned; `ToolExecutionError` means the tool failed on valid
arguments (e.g. an undecodable image). Both name the tool.

Built-in tools live in `tools/pure/`; `default_registry` imports that package
the first time it is asked for a tool (or call `load_builtin_tools()`), so
`from tools.registry import default_registry` is all a caller needs.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import msgspec
import numpy as np

from tools.canonical import canonical_json
from tools.workspace import PathEscape, Workspace, WorkspaceError, check_ref

_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_BUILTIN_PACKAGE = "tools.pure"


class ToolArgumentError(ValueError):
    """A tool call is wrong: unknown tool, argument out of range, or a refused path."""

    def __init__(self, message: str, *, tool: str | None = None) -> None:
        self.tool = tool
        self.message = message
        super().__init__(f"{tool}: {message}" if tool else message)

    def for_tool(self, tool: str) -> ToolArgumentError:
        """The same error naming `tool` (used when a check raised it anonymously)."""
        if self.tool:
            return self
        named = ToolArgumentError(self.message, tool=tool)
        named.__cause__ = self.__cause__
        return named


class ToolExecutionError(RuntimeError):
    """A tool failed on arguments that validated (bad input data, a library error)."""

    def __init__(self, message: str, *, tool: str) -> None:
        self.tool = tool
        self.message = message
        super().__init__(f"{tool}: {message}")


class ProducedFile(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # workspace-relative reference
    sha256: str
    size: int


class ToolResult(msgspec.Struct, frozen=True, kw_only=True):
    tool: str
    version: str
    arguments: dict[str, Any]  # validated, defaults filled in
    seed: int
    files: dict[str, ProducedFile] = {}  # logical name -> file
    values: dict[str, Any] = {}  # logical name -> JSON-able value

    def outputs(self) -> dict[str, str]:
        """Logical name -> sha256 (files) or canonical JSON (values), for `ToolApplied`."""
        out = {name: f.sha256 for name, f in self.files.items()}
        for name, value in self.values.items():
            out[name] = canonical_json(value).decode()
        return dict(sorted(out.items()))


class ToolContext:
    """What a running tool may touch: its workspace, its seed, and its output record."""

    def __init__(self, tool: str, workspace: Workspace, seed: int) -> None:
        self.tool = tool
        self.workspace = workspace
        self.seed = seed
        self._files: dict[str, ProducedFile] = {}

    def read_bytes(self, ref: str) -> bytes:
        return self.workspace.read_bytes(ref)

    def read_text(self, ref: str, encoding: str = "utf-8") -> str:
        return self.workspace.read_text(ref, encoding)

    def write_file(self, name: str, ref: str, data: bytes) -> ProducedFile:
        """Write an output atomically and record it under logical `name`.

        File names and the keys of the returned values share one namespace
        (`ToolResult.outputs()`), so they must differ.
        """
        if name in self._files:
            raise ToolExecutionError(f"output {name!r} written twice", tool=self.tool)
        path = self.workspace.write_bytes(ref, data)
        produced = ProducedFile(path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        self._files[name] = produced
        return produced

    def rng(self, key: str = "") -> np.random.Generator:
        """A generator derived from (tool, seed, key): the only randomness a tool may use."""
        digest = hashlib.sha256(f"{self.tool}\x00{self.seed}\x00{key}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:16], "big"))

    @property
    def files(self) -> dict[str, ProducedFile]:
        return dict(self._files)


ToolFunction = Callable[[ToolContext, dict[str, Any]], Mapping[str, Any] | None]
ToolCheck = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    description: str
    parameters: dict[str, Any]
    func: ToolFunction
    check: ToolCheck | None = None
    family: str = ""  # image | data | retrieval | audio ... (for listings and perf)
    _validator: jsonschema.Draft202012Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _TOOL_NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must match {_TOOL_NAME.pattern}")
        if not self.version or "@" in self.version:
            raise ValueError(f"tool {self.name}: version must be a non-empty string without '@'")
        schema = self.parameters
        jsonschema.Draft202012Validator.check_schema(schema)
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
            raise ValueError(
                f"tool {self.name}: parameters must be an object schema with "
                '"additionalProperties": false'
            )
        validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
        object.__setattr__(self, "_validator", validator)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "family": self.family,
            "description": self.description,
            "parameters": self.parameters,
        }

    def validate(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Check `args`; return them with top-level schema defaults filled in."""
        if not isinstance(args, Mapping):
            raise ToolArgumentError(
                f"arguments must be an object, got {type(args).__name__}", tool=self.name
            )
        errors = sorted(self._validator.iter_errors(dict(args)), key=_error_sort_key)
        if errors:
            raise ToolArgumentError("; ".join(_describe_error(e) for e in errors), tool=self.name)
        filled = dict(args)
        for key, spec in self.parameters.get("properties", {}).items():
            if key not in filled and isinstance(spec, dict) and "default" in spec:
                filled[key] = spec["default"]
        if self.check is not None:
            try:
                self.check(filled)
            except ToolArgumentError as exc:
                raise exc.for_tool(self.name) from exc
        return dict(sorted(filled.items()))


def _error_sort_key(error: jsonschema.ValidationError) -> tuple[str, str]:
    return ("/".join(str(p) for p in error.absolute_path), error.message)


def _describe_error(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    message = error.message
    if error.validator == "format" and error.cause is not None:
        message = str(error.cause)  # the workspace's reason, not "is not a 'ws-path'"
    return f"argument {where!r}: {message}" if where else message


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("ws-path", raises=WorkspaceError)
def _is_input_ref(value: object) -> bool:
    if isinstance(value, str):
        check_ref(value)
    return True


@_FORMATS.checks("ws-output-path", raises=WorkspaceError)
def _is_output_ref(value: object) -> bool:
    if isinstance(value, str):
        check_ref(value, writable=True)
    return True


class ToolRegistry:
    """Tools by name; thread-safe registration, lazy loading of built-ins."""

    def __init__(self, loader: Callable[[], None] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.RLock()
        self._loader = loader
        self._loaded = loader is None
        self._loading = False

    # ------------------------------------------------------------- registering

    def register(self, tool: Tool) -> Tool:
        with self._lock:
            existing = self._tools.get(tool.name)
            if existing is not None and existing is not tool:
                if existing.version == tool.version and existing.func is tool.func:
                    return existing
                raise ValueError(
                    f"tool {tool.name!r} is already registered (version {existing.version})"
                )
            self._tools[tool.name] = tool
            return tool

    def tool(
        self,
        *,
        name: str,
        version: str,
        description: str,
        parameters: dict[str, Any],
        check: ToolCheck | None = None,
        family: str = "",
    ) -> Callable[[ToolFunction], ToolFunction]:
        """Decorator: register the function as a tool and return it unchanged."""

        def decorate(func: ToolFunction) -> ToolFunction:
            self.register(
                Tool(
                    name=name,
                    version=version,
                    description=description,
                    parameters=parameters,
                    func=func,
                    check=check,
                    family=family,
                )
            )
            return func

        return decorate

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:  # other threads wait here until loading is complete
            if self._loaded or self._loading:  # _loading: the loader itself asking (RLock)
                return
            self._loading = True
            try:
                assert self._loader is not None
                self._loader()
                self._loaded = True
            finally:
                self._loading = False

    # ----------------------------------------------------------------- listing

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._tools)

    def get(self, name: str) -> Tool:
        """The tool called `name` ("tool" or "tool@version")."""
        self._ensure_loaded()
        base, _, pinned = name.partition("@")
        tool = self._tools.get(base)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            raise ToolArgumentError(f"unknown tool {base!r} (known: {known})")
        if pinned and pinned != tool.version:
            raise ToolArgumentError(
                f"version {pinned!r} requested, registered version is {tool.version!r}", tool=base
            )
        return tool

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return isinstance(name, str) and name.partition("@")[0] in self._tools

    def describe(self) -> list[dict[str, Any]]:
        """Every tool with its schema, sorted by name: what an LLM sees to plan calls."""
        return [self._tools[n].describe() for n in self.names()]

    # ----------------------------------------------------------------- running

    def validate(
        self, name: str, args: Mapping[str, Any], workspace: Workspace | None = None
    ) -> dict[str, Any]:
        """Check a planned call; return its arguments with defaults filled in.

        With a `workspace`, path arguments are also resolved against it (mounted
        sources exist, no symlink escapes), without reading anything.
        """
        tool = self.get(name)
        filled = tool.validate(args)
        if workspace is not None:
            for key, ref, writable in _path_arguments(tool.parameters, filled):
                try:
                    workspace.resolve(ref, writable=writable)
                except WorkspaceError as exc:
                    raise ToolArgumentError(f"argument {key!r}: {exc}", tool=tool.name) from exc
        return filled

    def run(
        self, name: str, args: Mapping[str, Any], workspace: Workspace, seed: int = 0
    ) -> ToolResult:
        """Validate and run one call; files it writes are recorded with their sha256."""
        tool = self.get(name)
        filled = self.validate(name, args, workspace)
        ctx = ToolContext(tool.name, workspace, seed)
        try:
            values = tool.func(ctx, dict(filled)) or {}
        except ToolArgumentError as exc:
            raise exc.for_tool(tool.name) from exc
        except PathEscape as exc:
            raise ToolArgumentError(str(exc), tool=tool.name) from exc
        except WorkspaceError as exc:
            raise ToolArgumentError(str(exc), tool=tool.name) from exc
        except FileNotFoundError as exc:
            missing = _describe_missing(workspace, exc.filename)
            raise ToolArgumentError(f"input file not found: {missing}", tool=tool.name) from exc
        except (NotADirectoryError, IsADirectoryError) as exc:
            where = _describe_missing(workspace, exc.filename)
            raise ToolArgumentError(f"{exc.strerror}: {where}", tool=tool.name) from exc
        except ToolExecutionError:
            raise
        except Exception as exc:  # a library failing on valid arguments
            raise ToolExecutionError(f"{type(exc).__name__}: {exc}", tool=tool.name) from exc
        values = dict(values)
        clash = sorted(set(values) & set(ctx.files))
        if clash:
            raise ToolExecutionError(f"outputs {clash} are both a file and a value", tool=tool.name)
        try:
            canonical_json(values)
        except (TypeError, msgspec.EncodeError) as exc:
            raise ToolExecutionError(f"values are not JSON-able: {exc}", tool=tool.name) from exc
        return ToolResult(
            tool=tool.name,
            version=tool.version,
            arguments=filled,
            seed=seed,
            files=dict(sorted(ctx.files.items())),
            values=dict(sorted(values.items())),
        )


def _path_arguments(
    schema: Mapping[str, Any], args: Mapping[str, Any]
) -> list[tuple[str, str, bool]]:
    """(argument, ref, writable) for top-level path arguments (strings or arrays of strings)."""
    found: list[tuple[str, str, bool]] = []
    for key, spec in schema.get("properties", {}).items():
        if key not in args or not isinstance(spec, dict):
            continue
        item_spec = spec.get("items", spec) if spec.get("type") == "array" else spec
        fmt = item_spec.get("format") if isinstance(item_spec, dict) else None
        if fmt not in ("ws-path", "ws-output-path"):
            continue
        values = args[key] if isinstance(args[key], list) else [args[key]]
        found.extend((key, v, fmt == "ws-output-path") for v in values if isinstance(v, str))
    return found


def _describe_missing(workspace: Workspace, filename: object) -> str:
    if not isinstance(filename, str | bytes):
        return "?"
    name = filename if isinstance(filename, str) else filename.decode(errors="replace")
    if not name.startswith("/"):
        return name  # already relative (an os call made with a directory descriptor)
    try:
        return workspace.relative(name)
    except WorkspaceError:
        return "?"


def _import_builtin_tools() -> None:
    importlib.import_module(_BUILTIN_PACKAGE)


default_registry = ToolRegistry(loader=_import_builtin_tools)
tool = default_registry.tool
register = default_registry.register


def load_builtin_tools() -> ToolRegistry:
    """Import `tools.pure` (every built-in tool) and return the default registry."""
    default_registry._ensure_loaded()
    return default_registry


__all__ = [
    "ProducedFile",
    "Tool",
    "ToolArgumentError",
    "ToolContext",
    "ToolExecutionError",
    "ToolRegistry",
    "ToolResult",
    "canonical_json",
    "default_registry",
    "load_builtin_tools",
    "register",
    "tool",
]
