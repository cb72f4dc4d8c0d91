"""`benchagent build` and `benchagent eval` through the CLI: outputs, replay, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchagent.cli import main
from replay.benchmark_files import benchmark_hash, directory_hash
from tests.agents.build_helpers import REQUIREMENT, build, of_type, read_events, register_brains


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    register_brains()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_build_writes_the_benchmark_and_replay_matches(tmp_path: Path, general_bench: Path,
                                                       capsys) -> None:
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, size=8)
    assert code == 0, err
    out_dir = Path(doc["out_dir"])
    assert out_dir == home / "runs" / "run-test"
    lines = (out_dir / "benchmark.jsonl").read_text().splitlines()
    media = ["media"] if any(json.loads(line)["media"] for line in lines) else []
    assert sorted(p.name for p in out_dir.iterdir()) == ["README.md", "benchmark.jsonl", *media,
                                                         "provenance.jsonl", "spec.json"]
    assert set(doc) >= {"run_id", "out_dir", "accepted", "rejected", "content_hash"}
    spec = json.loads((out_dir / "spec.json").read_text())
    assert spec["requirement"] == REQUIREMENT and spec["size"] == 8

    code, out, err = run_cli(capsys, "replay", "run-test", "--out", str(tmp_path / "replayed"),
                             "--home", str(home))
    assert code == 0, err
    assert directory_hash(tmp_path / "replayed") == directory_hash(out_dir)
    assert benchmark_hash(out_dir) == doc["content_hash"]

    code, out, err = run_cli(capsys, "audit", "run-test", "--home", str(home))
    assert code == 0, err


def test_eval_command_scores_an_existing_run(tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    assert build(capsys, home, general_bench, size=6)[0] == 0
    code, out, err = run_cli(capsys, "eval", "run-test", "--model", "scripted:brain",
                             "--model", "scripted:schema", "--home", str(home), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [e["model"] for e in doc["evaluations"]] == ["scripted:brain", "scripted:schema"]
    assert all(e["n"] == 6 for e in doc["evaluations"])
    events = read_events(home)
    calls = len(of_type(events, "LLMCallRecorded"))
    # Asking again prints the recorded scores without a single new call.
    code, out2, err = run_cli(capsys, "eval", "run-test", "--model", "scripted:brain",
                              "--model", "scripted:schema", "--home", str(home), "--json")
    assert code == 0 and json.loads(out2) == doc
    assert len(of_type(read_events(home), "LLMCallRecorded")) == calls
    assert len(of_type(read_events(home), "EvaluationRequested")) == 1


def test_resume_of_a_finished_run_is_refused(tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    assert build(capsys, home, general_bench, size=4)[0] == 0
    code, _, err = run_cli(capsys, "build", "--resume", "run-test", "--home", str(home))
    assert code == 2 and "already completed" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "build", REQUIREMENT, "--run-id", "run-test", "--size", "4",
                           "--llm", "scripted:brain", "--pool", str(general_bench),
                           "--home", str(home))
    assert code == 2 and "already exists" in err


BAD_INPUT = {
    "empty requirement": (["   "], "requirement is empty"),
    "too long requirement": (["x" * 20_001], "20000"),
    "size zero": ([REQUIREMENT, "--size", "0"], "--size must be at least 1"),
    "size beyond the pool": ([REQUIREMENT, "--size", "100000000"], "larger than the pool"),
    "unknown ablation": ([REQUIREMENT, "--disable", "design,planner"], "unknown --disable name"),
    "unknown llm": ([REQUIREMENT, "--llm", "gpt4"], "--llm"),
    "unknown local model": ([REQUIREMENT, "--llm", "local:no-such-model"], "--llm"),
    "unknown eval model": ([REQUIREMENT, "--eval-model", "magic:x"], "--eval-model"),
    "unknown scripted responder": ([REQUIREMENT, "--llm", "scripted:no_module:brain"],
                                   "cannot be imported"),
    "openai without a key": ([REQUIREMENT, "--llm", "openai:gpt-4o-mini",
                              "--llm-key-env", "BENCHAGENT_TEST_UNSET_KEY"], "needs an API key"),
    "missing pool": ([REQUIREMENT, "--pool", "/nonexistent/pool"], "does not exist"),
    "resume unknown run": (["--resume", "run-nope"], "no such run"),
    "bad run id": ([REQUIREMENT, "--run-id", "a.b"], "--run-id"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, general_bench: Path,
                                                          capsys, case: str) -> None:
    argv, expected = BAD_INPUT[case]
    home = tmp_path / "home"
    extra = [] if "--pool" in argv or "--resume" in argv else ["--pool", str(general_bench)]
    if "--llm" not in argv and "--resume" not in argv:
        extra += ["--llm", "scripted:brain"]
    code, out, err = run_cli(capsys, "build", *argv, *extra, "--home", str(home))
    assert code == 2
    lines = [line for line in err.splitlines() if not line.startswith("{")]  # structlog warnings
    assert len(lines) == 1 and lines[0].startswith("benchagent: error:"), err
    assert expected in lines[0]
    assert not home.exists()


def test_bad_config_key_is_named(tmp_path: Path, general_bench: Path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("size: 4\nllm: scripted:brain\nagents: {search_kk: 2}\n")
    code, _, err = run_cli(capsys, "build", REQUIREMENT, "--config", str(config),
                           "--pool", str(general_bench), "--home", str(tmp_path / "home"))
    assert code == 2 and "search_kk" in err
    config.write_text("sizes: 4\n")
    code, _, err = run_cli(capsys, "build", REQUIREMENT, "--config", str(config),
                           "--home", str(tmp_path / "home"))
    assert code == 2 and "sizes" in err


def test_config_file_sets_models_per_role(tmp_path: Path, general_bench: Path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"size: 4\nseed: 9\nllm: scripted:brain\npools: [{general_bench}]\n"
                      "role_models: {verifier: scripted:strict-brain}\nllm_key_env: MY_KEY\n")
    code, out, err = run_cli(capsys, "build", REQUIREMENT, "--config", str(config),
                             "--home", str(tmp_path / "home"), "--run-id", "cfg", "--json")
    assert code == 0, err
    events = read_events(tmp_path / "home", "cfg")
    req = events[0].payload
    assert (req.size, req.seed, req.llm_key_env) == (4, 9, "MY_KEY")
    assert req.role_models == {"verifier": "scripted:strict-brain"}
    models = {e.payload.role: e.payload.model for e in of_type(events, "LLMCallRecorded")}
    assert models["verifier"] == "scripted:strict-brain" and models["design"] == "scripted:brain"


def test_a_signed_build_is_replayed_to_the_same_bytes_and_verifies(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "k.pem", tmp_path / "k.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, "--sign-key", str(private), size=6)
    assert code == 0, err
    out_dir = Path(doc["out_dir"])
    anchor = json.loads((out_dir / "spec.json").read_text())["anchor"]
    assert anchor["content_hash"] == doc["content_hash"] and anchor["signature"] is not None
    code, _, err = run_cli(capsys, "replay", "run-test", "--out", str(tmp_path / "replayed"),
                           "--home", str(home), "--sign-key", str(private))
    assert code == 0, err
    assert directory_hash(tmp_path / "replayed") == directory_hash(out_dir)
    code, out, err = run_cli(capsys, "verify", "run-test", "--home", str(home), "--against",
                             str(out_dir), "--public-key", str(public))
    assert code == 0 and "agrees with the log" in out, out + err
