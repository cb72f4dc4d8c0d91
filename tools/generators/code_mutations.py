"""AST mutation operators: the catalogue of bugs a code-debugging item can plant.

A mutation is (kind, site, variant): `site` counts the nodes the kind can
change in `ast.walk` order (deterministic), `variant` picks one of the
replacements the kind offers there. Applying it re-parses the source, changes
that one node and unparses, so the same mutation on the same source always
gives the same text.

Kinds: off-by-one (an integer constant ± 1), comparison flip (< ↔ <=, == ↔ !=,
…), wrong operator (+ ↔ -, // ↔ %, …), wrong return value (another variable,
the opposite boolean), swapped arguments or operands (f(a, b) → f(b, a),
a - b → b - a, xs[k:] → xs[:k]), boolean operator flip (and ↔ or) and negated
condition (if c → if not c).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

KINDS = (
    "off_by_one", "comparison_flip", "wrong_operator", "wrong_return", "swapped_args",
    "bool_op_flip", "negated_condition",
)

_COMPARE_FLIPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt, ast.GtE),
    ast.LtE: (ast.Lt, ast.GtE, ast.Gt),
    ast.Gt: (ast.GtE, ast.Lt, ast.LtE),
    ast.GtE: (ast.Gt, ast.LtE, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_OPERATOR_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub, ast.Mult),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Add, ast.FloorDiv),
    ast.FloorDiv: (ast.Mod, ast.Mult),
    ast.Mod: (ast.FloorDiv,),
    ast.Div: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
}
_NON_COMMUTATIVE = (ast.Sub, ast.FloorDiv, ast.Mod, ast.Div, ast.Pow)
_BUILTINS = frozenset(dir(builtins))


class MutationError(ValueError):
    """The mutation does not fit the source (no such site or variant)."""


@dataclass(frozen=True, order=True)
class Mutation:
    kind: str
    site: int
    variant: int


@lru_cache(maxsize=256)
def normalize(source: str) -> str:
    """The source as `ast.unparse` writes it, so mutants differ only where mutated."""
    return ast.unparse(ast.parse(source))


def _local_names(tree: ast.AST) -> list[str]:
    """Variables of the function in order of first appearance (no builtins, no function)."""
    funcs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.Name):
            name = node.id
        else:
            continue
        if name not in names and name not in funcs and name not in _BUILTINS and name != "_":
            names.append(name)
    return names


# Each kind: which nodes it can change, and the replacements it offers for one of them.
# A replacement is a function that edits the node in place (on a freshly parsed tree).
Edit = Callable[[Any], None]


def _set_attr(attr: str, value_factory: Callable[[], Any]) -> Edit:
    def edit(node: Any) -> None:
        setattr(node, attr, value_factory())
    return edit


def _off_by_one(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        v = node.value
        return [_set_attr("value", lambda: v + 1), _set_attr("value", lambda: v - 1)]
    return []


def _comparison_flip(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return [_set_attr("ops", lambda c=cls: [c()])
                for cls in _COMPARE_FLIPS.get(type(node.ops[0]), ())]
    return []


def _wrong_operator(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.BinOp | ast.AugAssign):
        return [_set_attr("op", lambda c=cls: c()) for cls in _OPERATOR_SWAPS.get(type(node.op), ())]
    return []


def _wrong_return(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if not isinstance(node, ast.Return) or node.value is None:
        return []
    value = node.value
    if isinstance(value, ast.Constant) and type(value.value) is bool:
        flipped = not value.value
        return [_set_attr("value", lambda: ast.Constant(flipped))]
    current = ast.unparse(value)
    others = [n for n in _local_names(tree) if n != current][:3]
    return [_set_attr("value", lambda n=n: ast.Name(id=n, ctx=ast.Load())) for n in others]


def _swap_call(node: Any) -> None:
    node.args[0], node.args[1] = node.args[1], node.args[0]


def _swap_operands(node: Any) -> None:
    node.left, node.right = node.right, node.left


def _swap_slice(node: Any) -> None:
    node.lower, node.upper = node.upper, node.lower


def _swapped_args(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.Call) and len(node.args) >= 2 and not any(
            isinstance(a, ast.Starred) for a in node.args[:2]):
        if ast.unparse(node.args[0]) != ast.unparse(node.args[1]):
            return [_swap_call]
    if isinstance(node, ast.BinOp) and isinstance(node.op, _NON_COMMUTATIVE):
        if ast.unparse(node.left) != ast.unparse(node.right):
            return [_swap_operands]
    if isinstance(node, ast.Slice) and (node.lower is None) != (node.upper is None):
        return [_swap_slice]
    return []


def _bool_op_flip(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        return [_set_attr("op", other)]
    return []


def _negate(node: Any) -> None:
    test = node.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        node.test = test.operand
    else:
        node.test = ast.UnaryOp(op=ast.Not(), operand=test)


def _negated_condition(node: ast.AST, tree: ast.AST) -> list[Edit]:
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        return [_negate]
    return []


_OPERATORS: dict[str, Callable[[ast.AST, ast.AST], list[Edit]]] = {
    "off_by_one": _off_by_one,
    "comparison_flip": _comparison_flip,
    "wrong_operator": _wrong_operator,
    "wrong_return": _wrong_return,
    "swapped_args": _swapped_args,
    "bool_op_flip": _bool_op_flip,
    "negated_condition": _negated_condition,
}


def _sites(tree: ast.AST, kind: str) -> list[tuple[ast.AST, list[Edit]]]:
    operator = _OPERATORS[kind]
    found = []
    for node in ast.walk(tree):
        edits = operator(node, tree)
        if edits:
            found.append((node, edits))
    return found


def enumerate_mutations(source: str, kinds: tuple[str, ...] = KINDS) -> list[Mutation]:
    """Every (kind, site, variant) that applies to the source, in a stable order."""
    tree = ast.parse(source)
    result = []
    for kind in kinds:
        for site, (_, edits) in enumerate(_sites(tree, kind)):
            result += [Mutation(kind, site, v) for v in range(len(edits))]
    return result


def _snapshot(node: ast.AST) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, list) else v for k, v in vars(node).items()}


def all_mutants(source: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[Mutation, str]]:
    """Every mutation with its text; one parse, each edit undone after unparsing.

    Gives the same texts as `apply_mutation` for each mutation, much faster.
    """
    tree = ast.parse(source)
    result = []
    for kind in kinds:
        for site, (node, edits) in enumerate(_sites(tree, kind)):
            for variant, edit in enumerate(edits):
                saved = _snapshot(node)
                edit(node)
                result.append((Mutation(kind, site, variant), ast.unparse(tree)))
                for k in list(vars(node)):
                    if k not in saved:
                        delattr(node, k)
                for k, v in saved.items():
                    setattr(node, k, v)
    return result


def apply_mutation(source: str, mutation: Mutation) -> str:
    """The normalized source with one mutation applied; MutationError if it does not fit."""
    if mutation.kind not in _OPERATORS:
        raise MutationError(f"unknown mutation kind {mutation.kind!r}")
    tree = ast.parse(source)
    sites = _sites(tree, mutation.kind)
    if not 0 <= mutation.site < len(sites):
        raise MutationError(f"{mutation.kind}: no site {mutation.site} (has {len(sites)})")
    node, edits = sites[mutation.site]
    if not 0 <= mutation.variant < len(edits):
        raise MutationError(f"{mutation.kind} site {mutation.site}: no variant {mutation.variant}")
    edits[mutation.variant](node)
    return ast.unparse(tree)


def changed_line(before: str, after: str) -> int | None:
    """The 1-based number of the only line that differs, or None (several, or line count)."""
    a, b = before.splitlines(), after.splitlines()
    if len(a) != len(b):
        return None
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return diff[0] + 1 if len(diff) == 1 else None
