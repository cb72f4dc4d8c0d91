"""Content hashes of fixed-seed scripted builds: the fingerprint a refactoring must keep.

    PYTHONPATH=. .venv/bin/python perf/content_hashes.py [--json]

Builds the scripted configurations the test suite and `perf/build_scripted.py` use (same
requirement, seeds, sizes, brains and ablations) and prints the content hash of each
published benchmark, plus the hash of its `benchmark.jsonl` alone. Run it before and after
a change that must not change behaviour; every line must be identical.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from benchagent.cli import main
from tests.agents.build_helpers import REQUIREMENT, register_brains
from tests.agents.scripted_brain import ScriptedBrain
from tools.llm.scripted import register_responder

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared/datasets/general-bench-subset/data"

# (name, brain, size, seed, extra flags)
CASES: list[tuple[str, str, int, int, list[str]]] = [
    ("pipeline", "brain", 12, 3, []),
    ("targets", "brain", 12, 5, []),
    ("seed-11", "brain", 20, 11, []),
    ("feedback", "feedback-brain", 9, 3, []),
    ("strict", "strict-brain", 10, 3, []),
    ("eval", "brain", 8, 3, ["--eval-model", "scripted:brain"]),
    ("no-design", "brain", 8, 3, ["--disable", "design"]),
    ("no-scoring", "brain", 8, 3, ["--disable", "grounding-scoring"]),
    ("no-slp", "brain", 8, 3, ["--disable", "sample-planning"]),
    ("no-verifier", "brain", 8, 3, ["--disable", "verifier"]),
    ("perf-200", "perf-brain", 200, 1, []),
]


def build_case(home: Path, brain: str, size: int, seed: int, extra: list[str]) -> dict:
    run_id = "perf" if brain == "perf-brain" else "run-test"
    argv = ["build", REQUIREMENT, "--size", str(size), "--seed", str(seed),
            "--llm", f"scripted:{brain}", "--pool", str(POOL), "--home", str(home),
            "--run-id", run_id, "--json", "--llm-concurrency", "16", *extra]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    docs = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    if code != 0 or not docs:
        raise SystemExit(f"build failed ({code}): {err.getvalue()[-2000:]}")
    doc = json.loads(docs[-1])
    from hashlib import sha256

    jsonl = Path(doc["out_dir"]) / "benchmark.jsonl"
    doc["jsonl_hash"] = sha256(jsonl.read_bytes()).hexdigest()
    return doc


def main_hashes() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    register_brains()
    register_responder("perf-brain", ScriptedBrain())
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, brain, size, seed, extra in CASES:
            doc = build_case(Path(tmp) / name, brain, size, seed, extra)
            rows[name] = {"content_hash": doc["content_hash"], "jsonl_hash": doc["jsonl_hash"],
                          "accepted": doc["accepted"], "rejected": doc["rejected"]}
            if not args.json:
                print(f"{name:12s} {doc['content_hash']}  jsonl {doc['jsonl_hash'][:16]}  "
                      f"accepted {doc['accepted']} rejected {doc['rejected']}")
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))


if __name__ == "__main__":
    main_hashes()
