"""What a generated module may import, and the static check of its source.

The allow-list is what a generator needs: standard-library modules for math, dates, text,
randomness and plain data, and pillow and pymunk for media. The static check reads the AST
before anything runs: every import must be on the list, and the usual ways around an import
check (`__import__`, `eval`, `().__class__.__base__.__subclasses__()`, a module's private
attributes such as `random._os`) are refused. It is a policy check that gives the model a
clear reason; the security boundary is the sandbox itself (`jail`), which holds even for code
that slips past it. The worker enforces the same list again at run time.
"""

from __future__ import annotations

import ast
import threading

import msgspec

# Top-level names. `time`, `os`, `sys`, `io`-less file access and anything that reaches the
# network or other processes are deliberately absent.
STDLIB_ALLOWED: tuple[str, ...] = (
    "__future__", "abc", "array", "base64", "bisect", "calendar", "cmath", "collections",
    "colorsys", "contextlib", "copy", "dataclasses", "datetime", "decimal", "difflib", "enum",
    "fractions", "functools", "graphlib", "hashlib", "heapq", "io", "itertools", "json",
    "math", "numbers", "operator", "pprint", "random", "re", "statistics", "string", "struct",
    "textwrap", "typing", "unicodedata", "zoneinfo",
)
MEDIA_ALLOWED: tuple[str, ...] = ("PIL", "pymunk")
ALLOWED_MODULES: tuple[str, ...] = STDLIB_ALLOWED + MEDIA_ALLOWED

# Names whose only use in a generator would be to get around the import check.
FORBIDDEN_NAMES: frozenset[str] = frozenset({
    "__import__", "__builtins__", "__loader__", "__spec__", "eval", "exec", "compile",
    "globals", "locals", "vars", "breakpoint", "input", "getattr", "setattr", "delattr",
})
# Attributes that walk from any object to interpreter internals.
FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset({
    "__subclasses__", "__globals__", "__code__", "__closure__", "__builtins__", "__base__",
    "__bases__", "__mro__", "__class__", "__dict__", "__getattribute__", "__reduce__",
    "__reduce_ex__", "__loader__", "__spec__", "__import__", "__self__", "__func__",
    "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "gi_frame", "gi_code",
    "cr_frame", "ag_frame", "tb_frame", "co_code", "mro",
})


class StaticViolation(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # syntax | forbidden_import | forbidden_name (a wire.ErrorKind)
    line: int
    detail: str


def _top(name: str) -> str:
    return name.split(".", 1)[0]


class _Visitor(ast.NodeVisitor):
    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.modules: set[str] = set()  # local names bound to imported modules
        self.found: list[StaticViolation] = []

    def _bad(self, kind: str, node: ast.AST, detail: str) -> None:
        self.found.append(StaticViolation(kind=kind, line=getattr(node, "lineno", 0),
                                          detail=detail))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _top(alias.name) not in self.allowed:
                self._bad("forbidden_import", node, f"import {alias.name}")
            self.modules.add(alias.asname or _top(alias.name))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._bad("forbidden_import", node, "relative import")
        elif _top(node.module or "") not in self.allowed:
            self._bad("forbidden_import", node, f"from {node.module} import ...")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            self._bad("forbidden_name", node, f"use of {node.id}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self._bad("forbidden_name", node, f"attribute .{node.attr}")
        elif (node.attr.startswith("_") and isinstance(node.value, ast.Name)
              and node.value.id in self.modules):
            self._bad("forbidden_name", node,
                      f"private attribute {node.value.id}.{node.attr} of a module")
        self.generic_visit(node)


# CPython 3.11 cannot build ASTs in two threads at once ("AST constructor recursion depth
# mismatch", a SystemError): every parse of generated code in this process goes through
# `parse`. Reentrant, so a caller that holds it may parse again.
AST_LOCK = threading.RLock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, one thread at a time (AST_LOCK)."""
    with AST_LOCK:
        return ast.parse(source, filename=filename)


def static_violations(
    source: str, allowed: tuple[str, ...] = ALLOWED_MODULES, *, filename: str = "<generator>",
) -> list[StaticViolation]:
    """Every import outside `allowed` and every escape hatch, in source order; a source that
    does not parse gives one `syntax` violation."""
    try:
        tree = parse(source, filename=filename)
    except SyntaxError as exc:
        return [StaticViolation(kind="syntax", line=exc.lineno or 0,
                                detail=f"{exc.msg} (line {exc.lineno})")]
    except ValueError as exc:  # e.g. null bytes
        return [StaticViolation(kind="syntax", line=0, detail=str(exc))]
    visitor = _Visitor(frozenset(allowed))
    # Imports first, so a module alias is known wherever it is used.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            visitor.modules.update(a.asname or _top(a.name) for a in node.names)
    visitor.visit(tree)
    return sorted(visitor.found, key=lambda v: v.line)
