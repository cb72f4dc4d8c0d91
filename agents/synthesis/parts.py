"""The template's parts read from a model's answer, and why they cannot be used.

A model answers with a fenced ```python block (or bare code). `code_from_answer` takes the
code out; `parts_problem` says, in one line, why it is not usable before anything runs: it
is not Python (the syntax error and its line), or it lacks a required function of the
template. The sandboxed checker judges everything else.

Two slips a small model repeats whatever the feedback says are repaired instead of reported:
reading a parameter under a near name (`params["max_seconds"]` for the plan's `seconds`:
`renamed_params`), and using an allowed module it never imported (`datetime.date(...)`
with no `import datetime`: `with_imports`). After a failure the model may be asked for
one function only (`failing_function`); `spliced` puts its answer in place of that
function in the previous parts.
"""

from __future__ import annotations

import ast
import difflib
import re

from tools.sandbox.allowlist import ALLOWED_MODULES, parse
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
        tree = parse(code)
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


def with_imports(code: str) -> tuple[str, list[str]]:
    """`code` with one `import` line first for each allowed module it uses by name where the
    name is bound neither in its function nor at module level (the 1.5B writes
    `calendar.day_name` with no `import calendar`, or imports `datetime` inside one function
    and uses it in another); which it added. Code that is not Python is left as it is."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError):
        return code, []
    scopes = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    module_level = [n for n in tree.body if n not in scopes]
    module_bound = _bound(module_level) | {n.name for n in scopes}
    missing: set[str] = set()
    for node in scopes:
        missing |= _used([node]) - _bound([node]) - module_bound
    missing |= _used(module_level) - module_bound
    added = sorted(missing & set(ALLOWED_MODULES) - {"__future__"})
    if not added:
        return code, []
    # After a docstring and `from __future__` lines, which must stay first.
    head = 0
    for stmt in tree.body:
        docstring = (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                     and isinstance(stmt.value.value, str) and head == 0)
        if not (docstring or (isinstance(stmt, ast.ImportFrom)
                              and stmt.module == "__future__")):
            break
        head = stmt.end_lineno or stmt.lineno
    lines = code.splitlines(keepends=True)
    imports = "".join(f"import {name}\n" for name in added)
    return "".join(lines[:head]) + imports + "".join(lines[head:]), added


def with_unpacked(code: str, params: list[str]) -> tuple[str, list[str]]:
    """`code` with `name = problem['name']` put first in each function of `problem` that
    uses a plan parameter's name bound nowhere it can see (the skeleton reads them into
    locals in solve and question; the 1.5B then used them in checks too); which it added, as
    "function:name". Code that is not Python is left as it is."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError):
        return code, []
    scopes = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    module_bound = _bound([n for n in tree.body if n not in scopes]) | {n.name for n in scopes}
    lines = code.splitlines(keepends=True)
    added: list[str] = []
    for node in sorted(scopes, key=lambda n: n.lineno, reverse=True):  # bottom up: lines hold
        if "problem" not in {a.arg for a in node.args.args}:
            continue
        missing = [p for p in params if p in _used([node]) - _bound([node]) - module_bound]
        if not missing or not node.body:
            continue
        first = node.body[0]
        docstring = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                     and isinstance(first.value.value, str) and len(node.body) > 1)
        at = (first.end_lineno or first.lineno) if docstring else first.lineno - 1
        indent = " " * node.body[1 if docstring else 0].col_offset
        lines[at:at] = [f"{indent}{name} = problem[{name!r}]\n" for name in missing]
        added[:0] = [f"{node.name}:{name}" for name in missing]
    return "".join(lines), added


def _bound(nodes: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in (n for top in nodes for n in ast.walk(top)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
    return names


def _used(nodes: list[ast.stmt]) -> set[str]:
    return {n.id for top in nodes for n in ast.walk(top)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


_LINE = re.compile(r"\(line (\d+)\)")
_FIX = re.compile(r"\bfix (\w+)\(\)")  # a host check that knows the function at fault


def reported_lines(feedback: str) -> list[int]:
    """The line numbers a check report names ("... (line 12)"), in order."""
    return [int(n) for n in _LINE.findall(feedback)]


def failing_function(code: str, feedback: str) -> str | None:
    """The function of `code` in which the first failure the feedback places on one of its
    lines happened, else the first the feedback says to fix ("fix question()"); None if
    neither."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError):
        return None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for line in reported_lines(feedback):  # lines past the parts are the template's own
        for node in functions:
            if node.lineno <= line <= (node.end_lineno or 0):
                return node.name
    named = {n.name for n in functions}
    return next((m.group(1) for m in _FIX.finditer(feedback) if m.group(1) in named), None)


def spliced(previous: str, answer: str) -> str:
    """The previous parts with each function the answer defines put in place of the one of
    that name (new functions and imports are added): the answer to a request for one
    function. An answer that is not Python, or defines every required part, stands alone."""
    try:
        new = parse(answer)
        old = parse(previous)
    except (SyntaxError, ValueError):
        return answer
    functions = {n.name: n for n in new.body if isinstance(n, ast.FunctionDef)}
    if not functions or all(name in functions for name in REQUIRED_PARTS):
        return answer
    answer_lines = answer.splitlines()
    lines = previous.splitlines()

    def text(node: ast.stmt) -> list[str]:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return answer_lines[start - 1: node.end_lineno]

    # Replace from the bottom up so that earlier line numbers stay true.
    replaced = set()
    for node in sorted((n for n in old.body if isinstance(n, ast.FunctionDef)),
                       key=lambda n: n.lineno, reverse=True):
        if node.name in functions:
            lines[node.lineno - 1: node.end_lineno] = text(functions[node.name])
            replaced.add(node.name)
    added = [line for n in new.body if isinstance(n, ast.FunctionDef)
             and n.name not in replaced for line in ["", "", *text(n)]]
    imports = [line for n in new.body if isinstance(n, ast.Import | ast.ImportFrom)
               for line in text(n) if line not in lines]
    return "\n".join(imports + lines + added).strip("\n") + "\n"


def renamed_params(code: str, known: list[str]) -> tuple[str, dict[str, str]]:
    """`code` with each `params["x"]` / `params.get("x")` whose `x` the plan does not name
    renamed to the one planned name close to it (difflib, ratio ≥ 0.6); what was renamed.
    Code that is not Python, or names with no single close match, are left as they are."""
    try:
        tree = parse(code)
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
