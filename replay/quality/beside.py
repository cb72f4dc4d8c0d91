"""The quality report beside a benchmark folder: `DIR.quality.json` and `DIR.quality.html`.

They sit next to `DIR`, not in it, so the folder stays exactly the published files whose
content hash `BenchmarkPublished` records: judging, reviewing or evaluating a benchmark
never changes the benchmark. Both are projections of the log like the folder itself
(`benchagent replay` rebuilds them where the run has judgements or reviews), and the same
log gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from replay.projections import RunState
from replay.quality.from_run import quality_json, report_inputs
from replay.quality.output import write_atomically
from replay.quality.report import render_report
from replay.quality.report_model import summarise


def quality_paths(out_dir: Path) -> tuple[Path, Path]:
    """(`DIR.quality.json`, `DIR.quality.html`) beside the folder `out_dir`."""
    folder = Path(out_dir).resolve()
    return (folder.with_name(f"{folder.name}.quality.json"),
            folder.with_name(f"{folder.name}.quality.html"))


def write_quality_beside(state: RunState, out_dir: Path,
                         media: Mapping[str, bytes]) -> tuple[Path, Path]:
    """Write both files of the run's quality report beside `out_dir` (with `media`, the
    run's media bytes: `run_media.items_media`); their paths."""
    report = summarise(report_inputs(state, seed=state.request.payload.seed, media=media))
    json_path, html_path = quality_paths(out_dir)
    write_atomically(json_path, quality_json(report))
    write_atomically(html_path, render_report(report).encode("utf-8"))
    return json_path, html_path
