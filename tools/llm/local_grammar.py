"""JSON schema -> llama.cpp grammar (GBNF) for the local models' constrained decoding.

llama-cpp-python's own converter (pinned 0.3.16) ignores numeric bounds: a schema asking for
an integer between 1 and 5 lets the model write 1000. It also encodes string lengths as
deeply nested optional groups. This module extends that converter:

- `integer` with `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`: an exact
  digit-by-digit grammar of the allowed range (at most 15 digits when a side is open);
- `number` with integral inclusive bounds (0..1, 0..100, -1..1): the integer part ranges over
  the bounds and a fraction is only allowed below the upper bound (at most 15 decimals);
- `string` with `minLength` / `maxLength`: GBNF's native `{m,n}` repetition;
- string characters exclude raw control characters (the stock rule allows a raw newline).

What no grammar here enforces (e.g. `uniqueItems`, `multipleOf`, non-integral number bounds)
is named by `unenforced_keywords`, so callers know to check those after decoding.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tools.llm import llama_env  # noqa: F401  (before llama_cpp: sets OMP_WAIT_POLICY)

# isort: split
from llama_cpp.llama_grammar import (
    PRIMITIVE_RULES,
    RESERVED_NAMES,
    STRING_FORMAT_RULES,
    BuiltinRule,
    SchemaConverter,
)

MAX_DIGITS = 15  # digits of an integer part, as llama.cpp's own integral rule
MAX_DECIMALS = 15

_COMBINATORS = ("$ref", "oneOf", "anyOf", "allOf", "const", "enum")
# Keywords the grammar enforces (with the extensions above) or that do not constrain values.
_ENFORCED = {
    "type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs",
    "definitions", "pattern", "minLength", "maxLength", "format",
    "title", "description", "default", "examples", "$schema", "$id", "$comment",
}  # fmt: skip
_NUMERIC_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


# --------------------------------------------------------------------------- integer ranges


def _same_length(lo: str, hi: str) -> str:
    """Digit strings of len(lo) from lo to hi inclusive (leading zeros allowed inside)."""
    n = len(lo)
    if lo == hi:
        return f'"{lo}"'
    if n == 1:
        return f"[{lo}-{hi}]"
    a, b, rest_lo, rest_hi = lo[0], hi[0], lo[1:], hi[1:]
    if a == b:
        return f'"{a}" ({_same_length(rest_lo, rest_hi)})'
    zeros, nines = "0" * (n - 1), "9" * (n - 1)
    alts = []
    first_full = a if rest_lo == zeros else chr(ord(a) + 1)
    last_full = b if rest_hi == nines else chr(ord(b) - 1)
    if rest_lo != zeros:
        alts.append(f'"{a}" ({_same_length(rest_lo, nines)})')
    if first_full <= last_full:
        digit = f'"{first_full}"' if first_full == last_full else f"[{first_full}-{last_full}]"
        alts.append(f"{digit} [0-9]{{{n - 1}}}")
    if rest_hi != nines:
        alts.append(f'"{b}" ({_same_length(zeros, rest_hi)})')
    return " | ".join(f"({alt})" for alt in alts)


def _naturals(lo: int, hi: int | None) -> str:
    """Integers lo..hi (hi None: up to MAX_DIGITS digits) written without sign or leading 0."""
    if lo < 0 or (hi is not None and hi < lo):
        raise ValueError(f"empty or negative range {lo}..{hi}")
    alts = []
    top = len(str(hi)) if hi is not None else MAX_DIGITS
    for length in range(len(str(lo)), top + 1):
        start = max(lo, 10 ** (length - 1) if length > 1 else 0)
        end = min(hi, 10**length - 1) if hi is not None else 10**length - 1
        if start > end:
            continue
        if hi is None and length > 1 and start == 10 ** (length - 1):
            alts.append(f"[1-9] [0-9]{{{length - 1},{MAX_DIGITS - 1}}}")  # every longer one
            break
        alts.append(_same_length(str(start), str(end)))
    return " | ".join(f"({alt})" for alt in alts)


def integer_range(lo: int | None, hi: int | None) -> str:
    """GBNF for JSON integers in [lo, hi]; None is an open side."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"no integer satisfies {lo} <= x <= {hi}")
    alts = []
    if hi is None or hi >= 0:
        alts.append(_naturals(max(lo, 0) if lo is not None else 0, hi))
    if lo is None or lo < 0:
        smallest = max(1, -hi) if hi is not None else 1
        alts.append(f'"-" ({_naturals(smallest, -lo if lo is not None else None)})')
    return " | ".join(f"({alt})" for alt in alts)


# --------------------------------------------------------------------------- numbers

_FRACTION = f'"." [0-9]{{1,{MAX_DECIMALS}}}'
_ZERO_FRACTION = f'"." "0"{{1,{MAX_DECIMALS}}}'


def _magnitudes(lo: int, hi: int | None) -> str:
    """Unsigned decimals m with lo <= m <= hi (integral lo, hi)."""
    if hi is None:
        return f"({_naturals(lo, None)}) ({_FRACTION})?"
    alts = []
    if lo < hi:
        alts.append(f"({_naturals(lo, hi - 1)}) ({_FRACTION})?")
    alts.append(f'"{hi}" ({_ZERO_FRACTION})?')
    return " | ".join(f"({alt})" for alt in alts)


def number_range(lo: int | None, hi: int | None) -> str:
    """GBNF for JSON numbers (no exponent) in [lo, hi] with integral bounds; None is open."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"no number satisfies {lo} <= x <= {hi}")
    alts = []
    if hi is None or hi >= 0:
        alts.append(_magnitudes(max(lo, 0) if lo is not None else 0, hi))
    if lo is None or lo < 0:
        # -m lies in [lo, hi] when max(0, -hi) <= m <= -lo.
        smallest = max(0, -hi) if hi is not None else 0
        alts.append(f'"-" ({_magnitudes(smallest, -lo if lo is not None else None)})')
    return " | ".join(f"({alt})" for alt in alts)


def _integral(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[int | None, int | None] | None:
    """Inclusive integral bounds, or None when they cannot be expressed that way."""
    lo, hi = schema.get("minimum"), schema.get("maximum")
    ex_lo, ex_hi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    # Draft 4 spells exclusivity as booleans beside minimum/maximum.
    if ex_lo is True:
        ex_lo, lo = lo, None
    if ex_hi is True:
        ex_hi, hi = hi, None
    ex_lo = None if ex_lo is False else ex_lo
    ex_hi = None if ex_hi is False else ex_hi
    low: int | None = None
    high: int | None = None
    if integer:
        candidates_lo = [math.ceil(lo) if lo is not None else None]
        candidates_lo.append(math.floor(ex_lo) + 1 if ex_lo is not None else None)
        candidates_hi = [math.floor(hi) if hi is not None else None]
        candidates_hi.append(math.ceil(ex_hi) - 1 if ex_hi is not None else None)
        lows = [c for c in candidates_lo if c is not None]
        highs = [c for c in candidates_hi if c is not None]
        return (max(lows) if lows else None, min(highs) if highs else None)
    if ex_lo is not None or ex_hi is not None:
        return None
    if lo is not None:
        low = _integral(lo)
        if low is None:
            return None
    if hi is not None:
        high = _integral(hi)
        if high is None:
            return None
    return (low, high)


# JSON forbids raw control characters inside strings, but the pinned converter's `char` rule
# lets them through: a model could end a line inside a string and break the JSON.
_JSON_CHAR = BuiltinRule(r'[^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F]{4})', [])


class _BoundedConverter(SchemaConverter):
    """llama-cpp-python's converter plus numeric bounds and native string-length repetition."""

    def _add_primitive(self, name: str, rule: BuiltinRule) -> str:
        if rule is PRIMITIVE_RULES["char"]:
            rule = _JSON_CHAR
        return super()._add_primitive(name, rule)

    def visit(self, schema: dict[str, Any], name: str) -> str:
        rule_name = name + "-" if name in RESERVED_NAMES else name or "root"
        kind = schema.get("type")
        plain = not any(key in schema for key in _COMBINATORS)
        if plain and kind in ("integer", "number") and any(k in schema for k in _NUMERIC_BOUNDS):
            bounds = _bounds(schema, integer=kind == "integer")
            if bounds is not None:
                build = integer_range if kind == "integer" else number_range
                return self._add_rule(rule_name, f"({build(*bounds)}) space")
        if (
            plain
            and kind == "string"
            and ("minLength" in schema or "maxLength" in schema)
            and "pattern" not in schema
            and "format" not in schema
        ):
            char = self._add_primitive("char", PRIMITIVE_RULES["char"])
            lo = int(schema.get("minLength", 0))
            hi = schema.get("maxLength")
            count = f"{{{lo},{int(hi)}}}" if hi is not None else f"{{{lo},}}"
            return self._add_rule(rule_name, f'"\\"" {char}{count} "\\"" space')
        return super().visit(schema, name)


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The grammar of JSON texts valid for `schema` (see the module notes for its limits)."""
    converter = _BoundedConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "input")
    converter.visit(resolved, "")
    return converter.format_grammar()


def unenforced_keywords(schema: object) -> set[str]:
    """Schema keywords the grammar does not enforce; check those after decoding."""
    found: set[str] = set()

    def walk(node: object, as_schema: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, as_schema)
            return
        if not isinstance(node, dict):
            return
        if not as_schema:  # a map of names to schemas (properties, $defs)
            for sub in node.values():
                walk(sub, True)
            return
        kind = node.get("type")
        combined = any(key in node for key in _COMBINATORS)
        for key, value in node.items():
            if key in ("properties", "$defs", "definitions"):
                walk(value, False)
            elif key in ("enum", "const", "default", "examples", "required"):
                continue
            elif key in _NUMERIC_BOUNDS:
                numeric = kind in ("integer", "number") and not combined
                if not numeric or _bounds(node, kind == "integer") is None:
                    found.add(key)
            elif key in ("minLength", "maxLength"):
                if kind != "string" or combined or "pattern" in node or "format" in node:
                    found.add(key)
            elif key == "format":
                if not str(value).startswith("uuid") and f"{value}-string" not in STRING_FORMAT_RULES:
                    found.add(key)
            elif key not in _ENFORCED:
                found.add(key)
            else:
                walk(value, True)

    walk(schema, True)
    return found
