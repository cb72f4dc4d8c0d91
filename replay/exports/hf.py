"""`--format hf`: a Hugging Face dataset folder (Parquet + a dataset card).

One config per subtask, each a `test` split in `data/<config>/test-00000-of-00001.parquet`.
Images and audio are the `datasets` Image and Audio features with their bytes embedded (a
struct of bytes and path), one column per media kind: `image`/`audio` when no item of the
config has more than one, else `images`/`audios` lists. The feature types travel in the
Parquet schema (`huggingface` metadata, what `datasets` reads) and in the card's YAML
(`dataset_info`), both written from one description so they agree.

Written with pyarrow alone; the same items always give the same bytes (rows in id order,
fixed compression and row groups, no timestamps).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from replay.exports.facts import RunFacts
from replay.exports.items import (
    ExportItem,
    MediaKind,
    by_subtask,
    check_media,
    json_line,
    media_of,
    read_items,
)

SPLIT = "test"
ROWS_PER_GROUP_WITH_MEDIA = 64  # small row groups keep a reader's memory low for media


class Column(msgspec.Struct, frozen=True, kw_only=True):
    """One column: its name and its `datasets` feature."""

    name: str
    kind: str  # string | strings | image | images | audio | audios

    @property
    def feature(self) -> dict[str, Any]:
        """The feature as `datasets` serialises it (Features.to_dict)."""
        single = {"string": {"dtype": "string", "_type": "Value"}, "image": {"_type": "Image"},
                  "audio": {"_type": "Audio"}}
        base = self.kind.removesuffix("s")
        return single[self.kind] if self.kind in single else {"feature": single[base],
                                                              "_type": "List"}

    @property
    def yaml(self) -> dict[str, str]:
        """The feature as the card's YAML writes it (Features._to_yaml_list)."""
        if self.kind in ("string", "image", "audio"):
            return {"name": self.name, "dtype": self.kind}
        return {"name": self.name, "list": self.kind.removesuffix("s")}

    @property
    def arrow_type(self) -> pa.DataType:
        media = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        return {"string": pa.string(), "strings": pa.list_(pa.string()), "image": media,
                "audio": media, "images": pa.list_(media), "audios": pa.list_(media)}[self.kind]


class ConfigInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    subtask: str
    path: str
    columns: list[Column]
    num_examples: int
    num_bytes: int
    download_size: int


def write(files: Mapping[str, bytes], facts: RunFacts) -> dict[str, bytes]:
    items = read_items(files)
    check_media(items, files)
    out: dict[str, bytes] = {}
    configs: list[ConfigInfo] = []
    for subtask, config, group in by_subtask(items, [s.name for s in facts.subtasks]):
        columns = _columns(group)
        table = _table(group, columns, files)
        data = _parquet(table, columns)
        path = f"data/{config}/{SPLIT}-00000-of-00001.parquet"
        out[path] = data
        configs.append(ConfigInfo(name=config, subtask=subtask, path=path, columns=columns,
                                  num_examples=len(group), num_bytes=table.nbytes,
                                  download_size=len(data)))
    out["README.md"] = dataset_card(facts, configs, items).encode()
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------- data


def _columns(items: Sequence[ExportItem]) -> list[Column]:
    columns = [Column(name="id", kind="string"), Column(name="subtask", kind="string"),
               Column(name="input", kind="string"), Column(name="choices", kind="strings"),
               Column(name="target", kind="string"), Column(name="answers", kind="strings")]
    kinds: tuple[MediaKind, ...] = ("image", "audio")
    for kind in kinds:
        most = max(len(media_of(item, kind)) for item in items)
        if most == 1:
            columns.append(Column(name=kind, kind=kind))
        elif most > 1:
            columns.append(Column(name=f"{kind}s", kind=f"{kind}s"))
    columns += [Column(name="media", kind="strings"), Column(name="metadata", kind="string")]
    return columns


def _value(item: ExportItem, column: Column, files: Mapping[str, bytes]) -> Any:
    if column.kind in ("image", "audio", "images", "audios"):
        names = media_of(item, column.kind.removesuffix("s"))  # type: ignore[arg-type]
        values = [{"bytes": files[name], "path": name} for name in names]
        if column.kind.endswith("s"):
            return values
        return values[0] if values else None
    if column.name == "answers":
        return item.answers
    if column.name == "metadata":
        return json_line(item.metadata).decode()
    return getattr(item, column.name)


def _table(items: Sequence[ExportItem], columns: Sequence[Column],
           files: Mapping[str, bytes]) -> pa.Table:
    arrays = [pa.array([_value(item, c, files) for item in items], type=c.arrow_type)
              for c in columns]
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def _parquet(table: pa.Table, columns: Sequence[Column]) -> bytes:
    # json.dumps keeps the column order (datasets builds its Features in this order).
    info = {"info": {"features": {c.name: c.feature for c in columns}}}
    table = table.replace_schema_metadata({"huggingface": json.dumps(info)})
    has_media = any(c.kind not in ("string", "strings") for c in columns)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd",
                   row_group_size=ROWS_PER_GROUP_WITH_MEDIA if has_media else None)
    return sink.getvalue()


# ------------------------------------------------------------------------- card

_TASK_CATEGORIES = {"choice": "multiple-choice", "short": "question-answering",
                    "open": "text-generation", "generated": "question-answering"}


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _header(facts: RunFacts, configs: Sequence[ConfigInfo], items: Sequence[ExportItem]) -> dict:
    licenses = facts.licenses
    categories = {_TASK_CATEGORIES[item.kind] for item in items}
    if any(media_of(item, "image") for item in items):
        categories.add("visual-question-answering")
    if any(media_of(item, "audio") for item in items):
        categories.add("audio-text-to-text")
    return {
        "pretty_name": _title(facts),
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "language": ["en"],
        "task_categories": sorted(categories),
        "size_categories": [_size_category(len(items))],
        "tags": ["benchagent", "benchmark", "evaluation"],
        "configs": [
            {"config_name": c.name, **({"default": True} if i == 0 else {}),
             "data_files": [{"split": SPLIT, "path": c.path}]}
            for i, c in enumerate(configs)
        ],
        "dataset_info": [
            {"config_name": c.name, "features": [col.yaml for col in c.columns],
             "splits": [{"name": SPLIT, "num_bytes": c.num_bytes,
                         "num_examples": c.num_examples}],
             "download_size": c.download_size, "dataset_size": c.num_bytes}
            for c in configs
        ],
    }


def _title(facts: RunFacts) -> str:
    words = facts.requirement.strip().rstrip(".").split()
    short = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    return f"benchagent benchmark: {short}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def dataset_card(facts: RunFacts, configs: Sequence[ConfigInfo],
                 items: Sequence[ExportItem]) -> str:
    """README.md: the Hub's YAML header and a body saying what the benchmark is."""
    header = yaml.safe_dump(_header(facts, configs, items), sort_keys=False,
                            allow_unicode=True, width=100)
    by_name = {s.name: s for s in facts.subtasks}
    lines = ["---", header.rstrip("\n"), "---", "", f"# {_title(facts)}", "",
             "Built by benchagent from the evaluation requirement:", "",
             f"> {facts.requirement}", "",
             f"{len(items)} items in {len(configs)} subtask(s); one config per subtask, each "
             f"with a `{SPLIT}` split.", "", "## Subtasks", "",
             "| config | subtask | items | answer format | capability |",
             "|---|---|---|---|---|"]
    for c in configs:
        s = by_name.get(c.subtask)
        lines.append(f"| `{c.name}` | {_cell(c.subtask)} | {c.num_examples} | "
                     f"{_cell(s.answer_format if s else '')} | {_cell(s.capability if s else '')} |")
    lines.append("")
    for c in configs:
        s = by_name.get(c.subtask)
        if s and s.description:
            lines.append(f"- **{c.subtask}**: {s.description}")
    lines += ["", "## Loading", "", "```python", "from datasets import load_dataset", "",
              f'ds = load_dataset("path/to/this/folder", name="{configs[0].name}", '
              f'split="{SPLIT}")' if configs else "", "```", "",
              "Columns: `id`, `subtask`, `input` (the text put to the model), `choices` "
              "(options of multiple-choice items, else null), `target` (the answer; the letter "
              "of the correct option for multiple choice), `answers` (every accepted answer), "
              "`image`/`images` and `audio`/`audios` where the config has media (Image and "
              "Audio features, bytes embedded), `media` (the files' names in the benchmark) "
              "and `metadata` (JSON: source dataset and item, plan, generator parameters).", ""]
    lines += _sources_section(facts)
    lines += _build_section(facts)
    lines += _quality_section(facts)
    lines += _evaluation_section(facts)
    lines += ["## Provenance", "",
              f"- run: `{facts.run_id}`",
              f"- content hash of the published benchmark: `{facts.content_hash}`",
              f"- head hash of the run's log at publication (event {facts.head_seq}): "
              f"`{facts.head_hash}`", "",
              "These are the anchor of the published benchmark folder (its `spec.json`): the "
              "head hash names the exact log the benchmark was published from, `benchagent "
              f"verify {facts.run_id} --against DIR` checks a published folder against it, and "
              f"`benchagent export {facts.run_id}` on that log gives these files byte for "
              "byte.", ""]
    return "\n".join(lines)


def _sources_section(facts: RunFacts) -> list[str]:
    lines = ["## Sources and licences", "",
             "| source | dataset id | items | licence |", "|---|---|---|---|"]
    for s in facts.sources:
        lines.append(f"| {_cell(s.name)} | `{s.dataset_id}` | {s.items} | "
                     f"{_cell(s.license)} ({_cell(s.license_note)}) |")
    known = [x for x in facts.licenses if x != "unknown"]
    lines.append("")
    if "unknown" in facts.licenses:
        lines.append("Some sources' licences are unknown (see why above); check them before "
                     "redistributing this benchmark.")
    elif len(known) > 1:
        lines.append("The sources carry different licences; each item's `metadata` names its "
                     "source dataset.")
    lines.append("")
    return lines


def _build_section(facts: RunFacts) -> list[str]:
    lines = ["## How it was built", "",
             "benchagent's agents turned the requirement into subtasks (Design), found a "
             "dataset or procedural generator for each and planned how its items become "
             "benchmark items (Grounding), split the size among them (Allocation), made the "
             "items (Orchestrator) and checked each one (Verifier). Every decision is an event "
             "in the run's append-only, hash-chained log; the benchmark is a projection of it.",
             "",
             f"- requested size {facts.size}, seed {facts.seed}, backbone model `{facts.llm}`",
             f"- {facts.accepted} items accepted, {facts.rejected} rejected by the verifier"]
    if facts.disabled:
        lines.append(f"- ablations: {', '.join(facts.disabled)}")
    lines.append("")
    return lines


def _quality_section(facts: RunFacts) -> list[str]:
    lines = ["## Quality", ""]
    if not facts.judgements:
        return [*lines, "Not judged: the run's log holds no judge results.", ""]
    for record in facts.judgements:
        if record.type == "ItemJudged":
            continue
        lines.append(f"- {record.type}: " + ", ".join(
            f"{k} {_cell(v)}" for k, v in sorted(record.payload.items())
            if isinstance(v, str | int | float | bool)))
    per_item = [r for r in facts.judgements if r.type == "ItemJudged"]
    if per_item:
        lines.append(f"- {len(per_item)} item judgement(s) (`ItemJudged`)")
    lines.append("")
    return lines


def _evaluation_section(facts: RunFacts) -> list[str]:
    lines = ["## Evaluation results", ""]
    if not facts.evaluations:
        return [*lines, "Not evaluated: the run's log holds no evaluation results.", ""]
    subtasks = sorted({s for e in facts.evaluations for s in e.per_subtask})
    lines.append("| model | items | accuracy | " + " | ".join(_cell(s) for s in subtasks) + " |")
    lines.append("|---|---|---|" + "---|" * len(subtasks))
    for e in facts.evaluations:
        per = " | ".join(f"{e.per_subtask[s]:.3f}" if s in e.per_subtask else "" for s in subtasks)
        lines.append(f"| `{e.model}` | {e.n} | {e.accuracy:.3f} | {per} |")
    lines.append("")
    return lines
