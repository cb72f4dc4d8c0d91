"""The template's parts read from a model's answer, and why they cannot be used.

A model answers with a fenced ```python block (or bare code). `code_from_answer` takes the
code out; `parts_problem` says, in one line, why it is not usable before anything runs: it
is not Python (the syntax error and its line), or it lacks a required function of the
template. The sandboxed checker judges everything else. `renamed_params` repairs the one slip a small
model repeats whatever the feedback says: reading a parameter under a near name
(`params["max_seconds"]` for the plan's `seconds`).
"""

from __future__ import annotations

import ast
import difflib
import re

from tools.sandbox.template import REQUIRED_PARTS

_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I)


def code_from_answer(answer: str) -> str:
    """The code of an answer: its longest fenced block, else the answer as it is."""
    blocks = [b.strip("\n") for b in _FENCE.findall(answer)]
    code = max(blocks, key=len) if blocks else answer
    return code.strip("\n") + "\n"


def parts_problem(code: str) -> str | None:
    """Why the parts cannot be used (None if they can): one line."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"not Python: {exc.msg}" + (f" (line {exc.lineno})" if exc.lineno else "")
    except ValueError as exc:  # e.g. null bytes
        return f"not Python: {exc}"
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [name for name in REQUIRED_PARTS if name not in defined]
    if missing:
        return "missing required function" + ("s " if len(missing) > 1 else " ") + ", ".join(
            missing)
    return None



def renamed_params(code: str, known: list[str]) -> tuple[str, dict[str, str]]:
    """`code` with each `params["x"]` / `params.get("x")` whose `x` the plan does not name
    renamed to the one planned name close to it (difflib, ratio ≥ 0.6); what was renamed.
    Code that is not Python, or names with no single close match, are left as they are."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code, {}
    read: set[str] = set()
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and _is_params(node.value):
            key = node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and _is_params(node.func.value) and node.args):
            key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            read.add(key.value)
    renames = {}
    for name in sorted(read - set(known)):
        close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
        if len(close) == 1 or (close and close[0] in name):
            renames[name] = close[0]
    for old, new in renames.items():
        read_as = re.compile(r"""(params\s*(?:\[|\.get\(\s*))(["'])""" + re.escape(old) + r"\2")
        code = read_as.sub(rf"\g<1>\g<2>{new}\g<2>", code)
    return code, renames


def _is_params(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "params"
