"""perf/llm_usage.py on the real SQLite log of a scripted build."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))
from build_helpers import build, of_type, read_events  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "perf" / "llm_usage.py"


def run_script(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_usage_adds_up_the_runs_own_calls(tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, size=8)
    assert code == 0, err
    events = read_events(home)
    expected: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for env in of_type(events, "LLMCallRecorded"):
        row = expected[env.payload.purpose]
        row[0] += 1
        row[1] += env.payload.prompt_tokens
        row[2] += env.payload.completion_tokens
        row[3] += env.payload.latency_ms / 1000
    assert len(expected) >= 5  # design, grounding, orchestrator, verifier purposes

    done = run_script("run-test", "--home", str(home), "--json")
    assert done.returncode == 0, done.stderr
    usage = json.loads(done.stdout)
    assert usage["accepted"] == doc["accepted"] > 0
    got = {r["purpose"]: r for r in usage["purposes"]}
    assert set(got) == set(expected)
    for purpose, (calls, prompt, completion, seconds) in expected.items():
        row = got[purpose]
        assert (row["calls"], row["prompt_tokens"], row["completion_tokens"]) == (
            calls, prompt, completion)
        assert abs(row["seconds"] - seconds) < 1e-6
    total = usage["total"]
    assert total["calls"] == sum(r[0] for r in expected.values())
    assert total["prompt_tokens"] == sum(r[1] for r in expected.values())

    table = run_script("run-test", "--home", str(home))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith(f"run run-test: {doc['accepted']} accepted")
    assert lines[-1].split()[:2] == ["total", str(total["calls"])]
    for purpose, (calls, *_) in expected.items():  # one row per purpose the run called
        assert any(line.split()[:2] == [purpose, str(calls)] for line in lines), purpose


def test_unknown_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_script("no-such-run", "--home", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: no run 'no-such-run' in this store"]
