"""`benchagent ablate` (every variant built with the same seed, linked, judged: Table 4) and
`benchagent compare` (what differs between two runs, and why), over real SQLite logs and a
real HTTP judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import cli, cli_json, events_of, types_of

from tests.agents import scripted_brain
from tests.agents.build_helpers import REQUIREMENT
from tools.llm.scripted_server import ScriptedServer

COLUMNS = ["variant", "UIA", "FSQ", "QAC", "CQC", "TSD", "SSC", "Overall", "accepted",
           "rejected", "LLM", "calls", "run"]


def _ablate(capsys: pytest.CaptureFixture[str], home: Path, pool: Path, judge: str,
            *extra: str) -> tuple[int, str, str]:
    return cli(capsys, "ablate", REQUIREMENT, "--size", "5", "--seed", "3", "--variants",
               "full,verifier,sample-planning", "--llm", "scripted:strict-brain", "--pool",
               str(pool), "--judge", judge, "--run-id", "abl", "--home", str(home), *extra)


def test_ablate_builds_links_and_judges_every_variant_once(
    tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    with ScriptedServer(scripted_brain.ScriptedBrain()) as server:
        judge = f"openai:judge@{server.base_url}"
        code, out, err = _ablate(capsys, home, general_bench, judge)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[2].split() == COLUMNS
        rows = {}
        for line in lines[4:7]:
            cells = line.split()
            if cells[0] == "w/o":
                cells = [f"w/o {cells[1]}", *cells[2:]]
            rows[cells[0]] = cells
        assert set(rows) == {"full", "w/o verifier", "w/o sample-planning"}
        runs = {"full": "abl-full", "verifier": "abl-verifier",
                "sample-planning": "abl-sample-planning"}
        calls = server.calls
        for variant, run_id in runs.items():
            events = events_of(home, run_id)
            request = events[0].payload
            assert (request.seed, request.size) == (3, 5)
            assert request.disabled == ([] if variant == "full" else [variant])
            (link,) = [e.payload for e in events if e.type == "AblationLinked"]
            assert link.group == "abl" and link.variant == variant and link.runs == runs
            (bench,) = [e.payload for e in events if e.type == "BenchmarkJudged"]
            assert bench.judge == judge and not bench.self_judged
        # The strict brain's verifier rejects items; without it none is rejected.
        doc = cli_json(capsys, "compare", "abl-full", "abl-verifier", "--home", str(home))
        assert {s["name"] for s in doc["settings"]} == {"disabled"}
        assert doc["b"]["rejected"] == 0 and doc["a"]["rejected"] >= 1
        assert rows["w/o verifier"][-3:-1] == ["0", str(doc["b"]["llm_calls"] - len(
            [e for e in events_of(home, "abl-verifier") if e.type == "LLMCallRecorded"
             and e.payload.role.startswith(("judge:", "eval:"))]))]

        # Again with the same prefix: nothing is built or judged twice.
        before = {r: len(events_of(home, r)) for r in runs.values()}
        json_doc = cli_json(capsys, "ablate", REQUIREMENT, "--size", "5", "--seed", "3",
                            "--variants", "full,verifier,sample-planning",
                            "--llm", "scripted:strict-brain", "--pool", str(general_bench),
                            "--judge", judge, "--run-id", "abl", "--home", str(home))
        assert server.calls == calls
        assert {r: len(events_of(home, r)) for r in runs.values()} == before
    by_variant = {r["variant"]: r for r in json_doc["rows"]}
    assert set(by_variant) == set(runs)
    for variant, row in by_variant.items():
        assert row["status"] == "completed" and row["run_id"] == runs[variant]
        assert 0 <= row["overall"] <= 100 and row["uia"] == 75.0
        full_line = rows["full" if variant == "full" else f"w/o {variant}"]
        assert full_line[1:8] == [f"{row[m]:.2f}" for m in ("uia", "fsq", "qac", "cqc", "tsd",
                                                             "ssc", "overall")]
        assert full_line[8:11] == [str(row["accepted"]), str(row["rejected"]),
                                   str(row["llm_calls"])]


def test_compare_says_what_differs_and_why(text_home: Path, general_bench: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from quality_runs import build_text_run

    build_text_run(text_home, general_bench, "other", 8, "--disable", "design")
    capsys.readouterr()
    assert cli(capsys, "judge", "text", "--home", str(text_home))[0] == 0
    doc = cli_json(capsys, "compare", "text", "other", "--home", str(text_home))
    assert doc["settings"] == [{"name": "disabled", "a": [], "b": ["design"]}]
    sources = doc["sources"]
    total_a = doc["a"]["accepted"]
    assert sources["shared"] + sources["only_a"] == total_a
    assert sources["shared"] + sources["only_b"] == doc["b"]["accepted"]
    assert doc["a"]["judge"]["uia"] == 75.0 and doc["b"]["judge"] is None
    assert doc["a"]["groundings"] and all(
        g["alignment"] is not None and g["quota"] >= 0 for g in doc["a"]["groundings"])
    assert sum(g["quota"] for g in doc["a"]["groundings"]) == 8
    shared = set(doc["subtasks_shared"])
    assert set(doc["subtasks_only_a"]) | shared == set(doc["a"]["subtasks"])
    code, out, err = cli(capsys, "compare", "text", "other", "--home", str(text_home))
    assert code == 0, err
    assert "settings that differ (the why):\n  disabled: A []  B ['design']" in out
    assert f"source items: {sources['shared']} shared" in out
    assert "B not judged" in out


@pytest.mark.parametrize("argv, message", [
    (["compare", "text", "no-such-run"], "unknown run id: no-such-run"),
    (["compare", "text", "text"], "two different runs"),
    (["ablate", "r", "--size", "2", "--seed", "1", "--variants", "full,planner"],
     "unknown variant 'planner'"),
    (["ablate", "r", "--size", "0", "--seed", "1"], "--size must be at least 1"),
    (["ablate", "r", "--size", "2", "--seed", "1", "--llm", "gpt4"], "--llm"),
])
def test_bad_compare_and_ablate_input_is_one_line(text_home: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], message: str) -> None:
    before = len(events_of(text_home, "text"))
    code, out, err = cli(capsys, *argv, "--home", str(text_home))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert len(events_of(text_home, "text")) == before
    assert not types_of(text_home, "r-full", "RunRequested")
