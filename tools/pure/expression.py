"""A small, safe expression language for deriving record fields (never `eval`).

Syntax is a subset of Python expressions, parsed with `ast` and interpreted
node by node; anything not listed here is refused when the expression is
compiled, so a plan is rejected at validation time, not halfway through a run.

- literals: strings, numbers, True/False/None (also true/false/null), lists
- field references: `id`, `input.question`, `input.options[0]`, `output["answer"]`;
  `field("odd-key.x")` for keys that are not identifiers; a missing field is an
  error (use `get(...)`, `has(...)` or `coalesce(...)` to allow it)
- operators: + - * / // % (string/list repetition capped), comparisons
  (== != < <= > >= in, not in), and, or, not, `a if cond else b`
- f-strings without format specs: f"Q: {input.question}"
- functions (positional arguments only): see `FUNCTIONS`

Example: `input.options[letter_index(output.answer)]` turns "B" into the text of
the second option; `f"{input.question} ({len(input.options)} options)"`.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.pure.records import get_field, has_field
from tools.registry import ToolArgumentError

MAX_SOURCE = 2000
MAX_RESULT = 1_000_000  # characters or items a value may reach
_NAMED_CONSTANTS = {"true": True, "false": False, "null": None}


class ExpressionError(ToolArgumentError):
    """An expression that does not compile, or fails on a record."""


def _letter(index: int) -> str:
    if not isinstance(index, int) or not 0 <= index < 26:
        raise ExpressionError(f"letter() needs an index 0-25, got {index!r}")
    return chr(ord("A") + index)


def _letter_index(letter: str) -> int:
    if not isinstance(letter, str) or len(letter.strip()) != 1 or not letter.strip().isalpha():
        raise ExpressionError(f"letter_index() needs one letter, got {letter!r}")
    return ord(letter.strip().upper()) - ord("A")


def _index_of(items: list[Any], value: Any) -> int:
    try:
        return items.index(value)
    except ValueError:
        raise ExpressionError(f"index_of(): {value!r} is not in the list") from None


def _get(container: Any, key: Any, default: Any = None) -> Any:
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return default


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _join(items: list[Any], sep: str = "") -> str:
    return sep.join(str(i) for i in items)


def _split(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


def _replace(text: str, old: str, new: str) -> str:
    if not old:
        raise ExpressionError("replace() needs a non-empty string to replace")
    if len(text) + text.count(old) * (len(new) - len(old)) > MAX_RESULT:
        raise ExpressionError(f"replace() result longer than {MAX_RESULT}")
    return text.replace(old, new)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "lower": str.lower,
    "upper": str.upper,
    "strip": str.strip,
    "title": str.title,
    "startswith": str.startswith,
    "endswith": str.endswith,
    "replace": _replace,
    "join": _join,
    "split": _split,
    "concat": lambda *parts: "".join(str(p) for p in parts),
    "substr": lambda text, start, end=None: text[start:end],
    "words": lambda text: len(text.split()),
    "letter": _letter,
    "letter_index": _letter_index,
    "index_of": _index_of,
    "get": _get,
    "coalesce": _coalesce,
}
_RECORD_FUNCTIONS = {"field", "has"}  # take the record implicitly

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


@dataclass(frozen=True)
class Expression:
    source: str
    tree: ast.expr

    def evaluate(self, record: dict[str, Any]) -> Any:
        try:
            return _Evaluator(record).eval(self.tree)
        except ExpressionError:
            raise
        except ToolArgumentError as exc:
            raise ExpressionError(f"{self.source!r}: {exc.message}") from exc
        except RecursionError:
            raise ExpressionError(f"{self.source[:60]!r}... is nested too deeply") from None
        except (TypeError, ValueError, ZeroDivisionError, KeyError, IndexError) as exc:
            raise ExpressionError(f"{self.source!r} failed: {type(exc).__name__}: {exc}") from exc


def compile_expression(source: str) -> Expression:
    """Parse and check `source`; raise ExpressionError naming the refused construct."""
    if not isinstance(source, str):
        raise ExpressionError("expression must be a string")
    return _compile(source)


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> Expression:
    if not source.strip():
        raise ExpressionError("expression is empty")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"expression {source!r} does not parse: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node, source)
    return Expression(source=source, tree=tree)


_ALLOWED_NODES = (
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.Load,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    *_BINARY,
    *_COMPARE,
)


def _check_node(node: ast.AST, source: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ExpressionError(f"{type(node).__name__} is not allowed in expression {source!r}")
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise ExpressionError(f"field {node.attr!r} starts with '_' in {source!r}; use field()")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"only named functions can be called in {source!r}")
        name = node.func.id
        if name not in FUNCTIONS and name not in _RECORD_FUNCTIONS:
            known = ", ".join(sorted([*FUNCTIONS, *_RECORD_FUNCTIONS]))
            raise ExpressionError(f"unknown function {name!r} in {source!r} (known: {known})")
        if node.keywords:
            raise ExpressionError(f"keyword arguments are not allowed in {source!r}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"*arguments are not allowed in {source!r}")
    if isinstance(node, ast.FormattedValue) and (node.format_spec or node.conversion != -1):
        raise ExpressionError(f"f-string format specs and conversions are not allowed: {source!r}")


class _Evaluator:
    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def eval(self, node: ast.expr) -> Any:
        method = getattr(self, f"_{type(node).__name__}")
        return _capped(method(node))

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id in _NAMED_CONSTANTS:
            return _NAMED_CONSTANTS[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        return get_field(self.record, node.id)

    def _Attribute(self, node: ast.Attribute) -> Any:
        value = self.eval(node.value)
        if not isinstance(value, dict):
            raise ExpressionError(f"field {node.attr!r} read from a {type(value).__name__}")
        if node.attr not in value:
            raise ExpressionError(f"no field {ast.unparse(node)!r} in the record")
        return value[node.attr]

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            part = node.slice
            bounds = [self.eval(b) if b is not None else None for b in (part.lower, part.upper)]
            step = self.eval(part.step) if part.step is not None else None
            return value[bounds[0] : bounds[1] : step]
        key = self.eval(node.slice)
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f"{ast.unparse(node)!r}: no element {key!r}") from None

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise ExpressionError("'%' formatting of strings is not allowed; use an f-string")
        if isinstance(node.op, ast.Mult):
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list) and isinstance(times, int):
                    if len(seq) * max(times, 0) > MAX_RESULT:
                        raise ExpressionError(f"result longer than {MAX_RESULT}")
        return _BINARY[type(node.op)](left, right)

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for operand in node.values:
            result = self.eval(operand)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        args = [self.eval(a) for a in node.args]
        name = node.func.id
        if name == "field":
            return get_field(self.record, *args)
        if name == "has":
            return has_field(self.record, *args)
        return FUNCTIONS[name](*args)

    def _List(self, node: ast.List) -> list[Any]:
        return [self.eval(e) for e in node.elts]

    _Tuple = _List

    def _JoinedStr(self, node: ast.JoinedStr) -> str:
        return "".join(
            str(self.eval(v.value)) if isinstance(v, ast.FormattedValue) else str(v.value)
            for v in node.values
            if isinstance(v, ast.FormattedValue | ast.Constant)
        )


def _capped(value: Any) -> Any:
    if isinstance(value, str | list) and len(value) > MAX_RESULT:
        raise ExpressionError(f"result longer than {MAX_RESULT}")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4096:
        raise ExpressionError("integer result too large")
    return value
