"""The template's parts read from a model's answer, and why they cannot be used.

A model answers with a fenced ```python block (or bare code). `code_from_answer` takes the
code out; `parts_problem` says, in one line, why it is not usable before anything runs: it
is not Python (the syntax error and its line), or it lacks a required function of the
template. The sandboxed checker judges everything else.
"""

from __future__ import annotations

import ast
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

