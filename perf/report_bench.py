"""Quality report generation time for a synthetic 1,000-item run (issue 12 target: < 5 s).

    .venv/bin/python perf/report_bench.py [--items 1000] [--repeat 3]

Prints the time to summarise (bootstrap intervals, τ, separability, κ, complexity bins),
to render the page (Jinja2 + four matplotlib SVG plots) and to write it, for the best of
`--repeat` runs, and the page size. Building the synthetic inputs (PNG and WAV media) is
not part of the figure. Module import time is printed separately: a command pays it once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

t0 = time.perf_counter()
from replay.quality.report import render_report, write_report  # noqa: E402
from replay.quality.report_model import summarise  # noqa: E402

IMPORT_S = time.perf_counter() - t0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "quality"))
from synthetic_report import synthetic_inputs  # noqa: E402


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = synthetic_inputs(args.items, seed=0, reviewed=200)
    media_bytes = sum(len(b) for b in inputs.media.values())
    best: dict[str, float] = {}
    size = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            report = summarise(inputs)
            t_sum = time.perf_counter()
            html = render_report(report)
            t_render = time.perf_counter()
            write_report(report, Path(tmp) / "report.html")  # renders again, then writes
            t_write = time.perf_counter()
            size = len(html.encode())
        for key, value in (("summarise", t_sum - t), ("render", t_render - t_sum),
                           ("summarise+render", t_render - t),
                           ("render+write", t_write - t_render)):
            best[key] = min(best.get(key, float("inf")), value)
    print(f"items={len(inputs.items)} media={len(inputs.media)} ({media_bytes / 1e6:.1f} MB) "
          f"page={size / 1e6:.1f} MB")
    print(f"import of replay.quality.report: {IMPORT_S:.2f} s")
    for key, value in best.items():
        print(f"{key:>18}: {value:.2f} s (best of {args.repeat})")
    total = best["summarise+render"]
    print(f"report generation: {total:.2f} s — target < 5 s: {'met' if total < 5 else 'MISSED'}")


if __name__ == "__main__":
    run()
