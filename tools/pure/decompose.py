"""Content decomposition: split a long context or a dialogue into units.

Modes:
- `sentences`: rule-based (no model): a sentence ends at . ! ? … (plus closing
  quotes/brackets) followed by whitespace and an uppercase letter, digit, quote
  or bracket, unless the word before is a known abbreviation (Mr., e.g., U.S.)
  or a single-letter initial; with line_break="boundary" a newline also ends one.
- `paragraphs`: separated by blank lines, or by any newline with
  line_break="boundary".
- `chunks`: fixed-size windows of `size` words, characters or sentences, with
  `overlap` units shared by neighbours (the last chunk may be shorter).
- `turns`: a dialogue as "Speaker: text" lines (unprefixed lines continue the
  previous turn), a list of such strings, a list of plain strings (speakers
  assigned round-robin from `speakers`), or a list of {speaker|role, text|content}.

Every unit carries its `index` and, when cut from a string, its character span
`start`/`end` in that string (so `data_patch` splice can target it).
"""

from __future__ import annotations

import re
from typing import Any

from tools.pure.data import RECORD_IO, check_formats, read_records, write_records
from tools.pure.records import PATH_PATTERN, RecordSet, file_format, get_field
from tools.registry import ToolArgumentError, ToolContext, tool

VERSION = "1"

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k inc ltd co corp no fig al approx dept "
    "est gen gov jan feb mar apr jun jul aug sep sept oct nov dec mt rev sgt capt lt col".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9À-Ý]")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_SPEAKER_LINE = re.compile(r"^\s*([A-Za-z][\w .'\-]{0,39}?)\s*:+\s+(\S.*)$")  # 'Name: text'


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _line_spans(text: str, start: int, end: int, breaks: str) -> list[tuple[int, int]]:
    """Split [start, end) at newlines (breaks='\\n') or at blank lines (breaks='blank')."""
    pattern = re.compile(r"\n" if breaks == "\n" else r"\n[ \t\r\f\v]*\n")
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return [s for s in (_strip_span(text, a, b) for a, b in spans) if s]


def sentence_spans(text: str, line_break: str = "boundary") -> list[tuple[int, int]]:
    blocks = _line_spans(text, 0, len(text), "\n" if line_break == "boundary" else "blank")
    spans: list[tuple[int, int]] = []
    for block_start, block_end in blocks:
        cursor = block_start
        for match in _SENTENCE_END.finditer(text, block_start, block_end):
            if not _NEXT_START.match(text, match.end(), block_end):
                continue
            if match.group().startswith(".") and _is_abbreviation(text[cursor : match.start()]):
                continue
            spans.append((cursor, match.end()))
            cursor = match.end()
        spans.append((cursor, block_end))
    return [s for s in (_strip_span(text, a, b) for a, b in spans) if s]


def _is_abbreviation(before: str) -> bool:
    match = _WORD_BEFORE.search(before)
    if not match:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def paragraph_spans(text: str, line_break: str = "boundary") -> list[tuple[int, int]]:
    return _line_spans(text, 0, len(text), "\n" if line_break == "boundary" else "blank")


def chunk_spans(
    text: str, unit: str, size: int, overlap: int, line_break: str = "boundary"
) -> list[tuple[int, int]]:
    step = size - overlap
    if unit == "chars":
        starts = range(0, max(len(text) - overlap, 1), step)
        return [(i, min(i + size, len(text))) for i in starts if i < len(text)]
    if unit == "words":
        pieces = [m.span() for m in re.finditer(r"\S+", text)]
    else:
        pieces = sentence_spans(text, line_break)
    spans = []
    for first in range(0, len(pieces), step):
        last = min(first + size, len(pieces)) - 1
        spans.append((pieces[first][0], pieces[last][1]))
        if last == len(pieces) - 1:
            break
    return spans


def split_text(text: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Units of a string for mode sentences, paragraphs or chunks."""
    mode, line_break = args["mode"], args["line_break"]
    if mode == "sentences":
        spans = sentence_spans(text, line_break)
    elif mode == "paragraphs":
        spans = paragraph_spans(text, line_break)
    else:
        spans = chunk_spans(text, args["chunk_unit"], args["size"], args["overlap"], line_break)
    return [
        {"index": i, "text": text[a:b], "start": a, "end": b} for i, (a, b) in enumerate(spans)
    ]


def split_turns(dialogue: Any, speakers: list[str]) -> list[dict[str, Any]]:
    """Turns with speakers from a dialogue string or list (see the module docstring)."""
    if isinstance(dialogue, str):
        return _turns_from_string(dialogue)
    if not isinstance(dialogue, list):
        raise ToolArgumentError(f"a dialogue is a string or a list, got {type(dialogue).__name__}")
    turns: list[dict[str, Any]] = []
    prefixed = all(isinstance(t, str) and _SPEAKER_LINE.match(t) for t in dialogue)
    for index, item in enumerate(dialogue):
        if isinstance(item, dict):
            speaker = item.get("speaker", item.get("role"))
            text = item.get("text", item.get("content"))
            if not isinstance(text, str):
                raise ToolArgumentError(f"turn {index} has no text/content string")
        elif isinstance(item, str) and prefixed:
            match = _SPEAKER_LINE.match(item)
            assert match is not None
            speaker, text = match.group(1).strip(), match.group(2).strip()
        elif isinstance(item, str):
            speaker, text = speakers[index % len(speakers)], item.strip()
        else:
            raise ToolArgumentError(f"turn {index} is a {type(item).__name__}")
        turns.append({"index": index, "speaker": speaker, "text": text})
    return turns


def _turns_from_string(dialogue: str) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    offset = 0
    for line in dialogue.splitlines(keepends=True):
        line_start, offset = offset, offset + len(line)
        match = _SPEAKER_LINE.match(line.rstrip("\r\n"))
        span = _strip_span(dialogue, line_start, offset)
        if span is None:
            continue
        if match:
            text_start = line_start + match.start(2)
            turns.append(
                {
                    "index": len(turns),
                    "speaker": match.group(1).strip(),
                    "text": dialogue[text_start : span[1]],
                    "start": text_start,
                    "end": span[1],
                }
            )
        elif turns:  # a continuation line
            last = turns[-1]
            last["end"] = span[1]
            last["text"] = dialogue[last["start"] : span[1]]
        else:
            turns.append(
                {"index": 0, "speaker": None, "text": dialogue[span[0] : span[1]],
                 "start": span[0], "end": span[1]}
            )
    return turns


def decompose(value: Any, args: dict[str, Any]) -> list[dict[str, Any]]:
    if args["mode"] == "turns":
        return split_turns(value, args["speakers"])
    if not isinstance(value, str):
        raise ToolArgumentError(f"mode {args['mode']!r} needs a string, got {type(value).__name__}")
    return split_text(value, args)


def _check(args: dict[str, Any]) -> None:
    has_text, has_input = "text" in args, "input" in args
    if has_text == has_input:
        raise ToolArgumentError("give exactly one of text (inline) or input (a record file)")
    if has_input:
        if "output" not in args or "field" not in args:
            raise ToolArgumentError("input needs field (what to split) and output (units file)")
        check_formats(args)
    elif "output" in args:
        file_format(args["output"], args.get("output_format"))
    if args["mode"] == "chunks" and args["overlap"] >= args["size"]:
        raise ToolArgumentError(f"overlap ({args['overlap']}) must be < size ({args['size']})")


@tool(
    name="data_decompose",
    version=VERSION,
    family="data",
    description=(
        "Split content into units: sentences, paragraphs, fixed-size chunks (words, chars or "
        "sentences, with overlap) or dialogue turns with speakers. Either `text` inline "
        "(units returned as values) or `input` record file + `field`, writing one record per "
        "unit: {id: '<source id>#<index>', source_id, index, text, speaker?, start?, end?} "
        "plus the `keep` fields of its source record."
    ),
    parameters={
        "type": "object",
        "properties": {
            "text": {"type": ["string", "array"], "description": "inline content to split"},
            **RECORD_IO,
            "field": {"type": "string", "pattern": PATH_PATTERN},
            "mode": {"enum": ["sentences", "paragraphs", "chunks", "turns"]},
            "line_break": {"enum": ["boundary", "space"], "default": "boundary"},
            "chunk_unit": {"enum": ["words", "chars", "sentences"], "default": "words"},
            "size": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 100},
            "overlap": {"type": "integer", "minimum": 0, "maximum": 99999, "default": 0},
            "speakers": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "default": ["A", "B"],
            },
            "id_field": {"type": "string", "pattern": PATH_PATTERN, "default": "id"},
            "keep": {"type": "array", "items": {"type": "string", "pattern": PATH_PATTERN}},
        },
        "required": ["mode"],
        "additionalProperties": False,
    },
    check=_check,
)
def data_decompose(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if "text" in args:
        units = decompose(args["text"], args)
        if "output" in args:
            write_records(ctx, args, RecordSet(units))
        return {"units": units, "count": len(units)}
    source = read_records(ctx, args)
    out: list[dict[str, Any]] = []
    for position, record in enumerate(source.records):
        source_id = get_field(record, args["id_field"], position)
        for unit in decompose(get_field(record, args["field"]), args):
            row = {"id": f"{source_id}#{unit['index']}", "source_id": source_id, **unit}
            for path in args.get("keep") or []:
                row[path] = get_field(record, path)
            out.append(row)
    write_records(ctx, args, RecordSet(out))
    return {"records": len(source.records), "count": len(out)}
