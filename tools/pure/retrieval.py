"""Offline retrieval over a local text corpus (the paper's web search, without a network).

A corpus is a folder (or one file) in the workspace or a mounted source:
- `.txt` / `.md` files: one document each (id = the file's reference), or one per
  paragraph with `unit="paragraph"` (id = "<ref>#<n>");
- `.jsonl` / `.json` record files: one document per record, id from `id_field`
  (its position when absent), qualified as "<file ref>#<id>" when the corpus has
  several files; text from the `text_fields` joined by newlines (missing fields
  skipped), title from `title_field`.

Ranking is BM25 (bm25s, Lucene variant, k1=1.5, b=0.75) over lowercase word
tokens with English stopwords removed. Scores are computed for every document
and sorted by (-score, doc id), so ties never depend on index order; documents
that share no term with the query are not returned. Indexes are cached in
process (8 corpora), keyed by each corpus file's path, size, mtime and inode and
by the indexing options, so an edited file triggers a rebuild.

Python API (used by Grounding as well): `load_corpus`, `BM25Index.build(docs)`,
`index.search(query, k)`; tool: `retrieval_search`.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import bm25s
import msgspec
import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from cachetools import LRUCache

from tools.pure.records import PATH_PATTERN, decode_records, get_field
from tools.registry import ToolArgumentError, ToolContext, tool
from tools.workspace import Workspace

VERSION = "1"
_TOKEN = re.compile(r"\w\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN)
_TEXT_SUFFIXES = (".txt", ".md")
_RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
_CORPUS_SUFFIXES = (*_TEXT_SUFFIXES, *_RECORD_SUFFIXES)
_CACHE_SIZE = 8


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


class Document(msgspec.Struct, frozen=True, kw_only=True):
    doc_id: str
    text: str
    title: str = ""
    source: str = ""  # workspace reference of the file it came from


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    rank: int
    doc_id: str
    score: float
    title: str
    snippet: str
    source: str


@dataclass(frozen=True)
class CorpusOptions:
    unit: str = "file"  # file | paragraph (text files)
    id_field: str = "id"
    text_fields: tuple[str, ...] = ("text",)
    title_field: str | None = None
    records_key: str | None = None


def load_corpus(workspace: Workspace, ref: str, options: CorpusOptions) -> list[Document]:
    """Documents of the corpus at `ref` (a file or a folder, searched recursively)."""
    if workspace.is_dir(ref):
        files = workspace.list_files(ref, suffixes=_CORPUS_SUFFIXES)
    elif workspace.is_file(ref):
        files = [ref]
    else:
        raise ToolArgumentError(f"corpus {ref!r} does not exist")
    docs: list[Document] = []
    for file_ref in files:
        docs.extend(_documents_of(workspace, file_ref, options, qualify=len(files) > 1))
    return docs


def _documents_of(
    workspace: Workspace, ref: str, options: CorpusOptions, *, qualify: bool
) -> list[Document]:
    suffix = PurePosixPath(ref).suffix.lower()
    data = workspace.read_bytes(ref)
    if suffix in _RECORD_SUFFIXES:
        records = decode_records(
            data, _RECORD_SUFFIXES[suffix], records_key=options.records_key, name=ref
        ).records
        docs = []
        for position, record in enumerate(records):
            parts = [get_field(record, f, None) for f in options.text_fields]
            text = "\n".join(str(p) for p in parts if p not in (None, ""))
            record_id = get_field(record, options.id_field, position)
            doc_id = f"{ref}#{record_id}" if qualify else str(record_id)
            title = get_field(record, options.title_field, "") if options.title_field else ""
            docs.append(
                Document(
                    doc_id=doc_id,
                    text=text,
                    title=str(title),
                    source=ref,
                )
            )
        return docs
    text = data.decode("utf-8", errors="replace")
    if options.unit == "paragraph":
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        return [
            Document(doc_id=f"{ref}#{i}", text=p, title=PurePosixPath(ref).stem, source=ref)
            for i, p in enumerate(paragraphs)
        ]
    return [Document(doc_id=ref, text=text, title=PurePosixPath(ref).stem, source=ref)]


class BM25Index:
    """A BM25 index over documents with deterministic ranking."""

    def __init__(self, docs: list[Document], retriever: bm25s.BM25 | None) -> None:
        self.docs = docs
        self._retriever = retriever
        # Position of each doc in doc-id order, for tie-breaking.
        order = sorted(range(len(docs)), key=lambda i: docs[i].doc_id)
        self._id_rank = np.empty(len(docs), dtype=np.int64)
        self._id_rank[order] = np.arange(len(docs))

    @classmethod
    def build(cls, docs: list[Document]) -> BM25Index:
        ids = [d.doc_id for d in docs]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in sorted(ids) if ids.count(i) > 1)
            raise ToolArgumentError(f"corpus has duplicate document id {duplicate!r}")
        tokens = [tokenize(f"{d.title}\n{d.text}") for d in docs]
        if not any(tokens):
            return cls(docs, None)
        retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        retriever.index(tokens, show_progress=False)
        return cls(docs, retriever)

    def search(self, query: str, k: int = 10, snippet_chars: int = 240) -> list[Hit]:
        terms = tokenize(query)
        if self._retriever is None or not terms:
            return []
        vocab = self._retriever.vocab_dict
        known = [t for t in terms if t in vocab]
        if not known:
            return []
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float64)
        order = np.lexsort((self._id_rank, -scores))
        hits: list[Hit] = []
        for position in order[:k]:
            if scores[position] <= 0:
                break
            doc = self.docs[position]
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    doc_id=doc.doc_id,
                    score=round(float(scores[position]), 6),
                    title=doc.title,
                    snippet=snippet(doc.text, set(terms), snippet_chars),
                    source=doc.source,
                )
            )
        return hits


def snippet(text: str, terms: set[str], width: int) -> str:
    """The `width`-character window with the most query-term occurrences (earliest on ties)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    positions = [m.start() for m in _TOKEN.finditer(flat) if m.group().lower() in terms]
    if not positions:
        return flat[:width].rstrip() + "…"
    best_start, best_count = positions[0], 0
    right = 0
    for left, start in enumerate(positions):
        while right < len(positions) and positions[right] < start + width:
            right += 1
        if right - left > best_count:
            best_start, best_count = start, right - left
    start = max(0, min(best_start - width // 4, len(flat) - width))
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = flat[start : start + width].strip()
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")


# ---------------------------------------------------------------------- cache

_cache: LRUCache[str, BM25Index] = LRUCache(maxsize=_CACHE_SIZE)
_cache_lock = threading.Lock()


def _fingerprint(workspace: Workspace, ref: str, options: CorpusOptions) -> str:
    """A key that changes when any corpus file does: path, size, mtime, inode of each.

    Cheaper than hashing the contents on every query; results still depend only
    on the contents, the key merely decides whether the cached index is reused.
    """
    if workspace.is_dir(ref):
        files = workspace.scan_files(ref, suffixes=_CORPUS_SUFFIXES)
    elif workspace.is_file(ref):
        files = [(ref, os.stat(workspace.resolve(ref)))]
    else:
        raise ToolArgumentError(f"corpus {ref!r} does not exist")
    signature: list[Any] = [VERSION, str(workspace.resolve(ref)), options.__dict__]
    for file_ref, st in files:
        signature.append([file_ref, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev])
    return hashlib.sha256(msgspec.json.encode(signature)).hexdigest()


def corpus_index(workspace: Workspace, ref: str, options: CorpusOptions) -> BM25Index:
    """The (cached) index of the corpus at `ref`."""
    key = _fingerprint(workspace, ref, options)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    index = BM25Index.build(load_corpus(workspace, ref, options))
    with _cache_lock:
        _cache[key] = index
    return index


# ----------------------------------------------------------------------- tool


@tool(
    name="retrieval_search",
    version=VERSION,
    family="retrieval",
    description=(
        "Search a local text corpus (folder or file of .txt/.md/.jsonl/.json) with BM25 and "
        "return the top k hits: rank, doc_id, score, title, snippet, source. Ranking is "
        "deterministic (ties by doc id). Optionally writes the hits as JSON to `output`."
    ),
    parameters={
        "type": "object",
        "properties": {
            "corpus": {"type": "string", "format": "ws-path", "description": "folder or file"},
            "query": {"type": "string", "minLength": 1, "maxLength": 4000},
            "k": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "unit": {"enum": ["file", "paragraph"], "default": "file"},
            "id_field": {"type": "string", "pattern": PATH_PATTERN, "default": "id"},
            "text_fields": {
                "type": "array",
                "items": {"type": "string", "pattern": PATH_PATTERN},
                "minItems": 1,
                "default": ["text"],
            },
            "title_field": {"type": "string", "pattern": PATH_PATTERN},
            "records_key": {"type": "string", "minLength": 1},
            "snippet_chars": {"type": "integer", "minimum": 20, "maximum": 5000, "default": 240},
            "output": {"type": "string", "format": "ws-output-path"},
        },
        "required": ["corpus", "query"],
        "additionalProperties": False,
    },
)
def retrieval_search(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    options = CorpusOptions(
        unit=args["unit"],
        id_field=args["id_field"],
        text_fields=tuple(args["text_fields"]),
        title_field=args.get("title_field"),
        records_key=args.get("records_key"),
    )
    index = corpus_index(ctx.workspace, args["corpus"], options)
    hits = [msgspec.to_builtins(h) for h in index.search(args["query"], args["k"],
                                                          args["snippet_chars"])]
    if "output" in args:
        encoded = msgspec.json.format(msgspec.json.encode(hits), indent=2) + b"\n"
        ctx.write_file("hits_file", args["output"], encoded)
    return {"hits": hits, "documents": len(index.docs)}
