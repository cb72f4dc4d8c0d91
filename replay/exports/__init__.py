"""Exports: the published benchmark in the formats of the tools people evaluate with.

An export is a projection of the log, like `replay`: the command verifies the run's hash
chain, rebuilds the published files with `replay.benchmark_files.project_benchmark`, gathers
the run's facts (`replay.exports.facts`) and hands both to one pure writer per format
(files in, files out), so the same log always gives the same bytes:

- `hf`:      Parquet per subtask + a Hub dataset card (`replay.exports.hf`)
- `inspect`: an Inspect AI `task.py` + JSONL data (`replay.exports.inspect_task`)
- `lm-eval`: lm-evaluation-harness task YAMLs + JSONL data (`replay.exports.lm_eval_tasks`)
- `jsonl`:   benchmark.jsonl + media + manifest (`replay.exports.jsonl`)

None of the writers imports the library that reads its output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Literal, get_args

from replay.exports.facts import RunFacts

ExportFormat = Literal["hf", "inspect", "lm-eval", "jsonl"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
Writer = Callable[[Mapping[str, bytes], RunFacts], dict[str, bytes]]

_MODULES = {"hf": "hf", "inspect": "inspect_task", "lm-eval": "lm_eval_tasks", "jsonl": "jsonl"}


def writer_for(fmt: str) -> Writer:
    """The pure writer of one format: `write(files, facts) -> files`."""
    if fmt not in _MODULES:
        raise KeyError(fmt)
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    return module.write


def render(files: Mapping[str, bytes], facts: RunFacts, formats: list[str]) -> dict[str, bytes]:
    """The export folder's files: one format at its top, several in `<format>/` subfolders."""
    if len(formats) == 1:
        return writer_for(formats[0])(files, facts)
    out: dict[str, bytes] = {}
    for fmt in formats:
        out.update({f"{fmt}/{path}": data for path, data in writer_for(fmt)(files, facts).items()})
    return out
