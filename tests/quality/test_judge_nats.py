"""`benchagent judge` with the log on NATS JetStream (a real nats-server): the same judgement
as in-process, and judging again asks the model nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import cli_json

from tests.agents.build_helpers import build
from tests.nats_server import NatsServer


def test_judging_over_nats_gives_the_in_process_table(tmp_path: Path, general_bench: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    local_home = tmp_path / "local"
    assert build(capsys, local_home, general_bench, size=5, seed=4)[0] == 0
    local = cli_json(capsys, "judge", "run-test", "--home", str(local_home))
    with NatsServer(tmp_path / "nats") as server:
        home = tmp_path / "nats-home"
        code, _, err = build(capsys, home, general_bench, "--store", server.url, size=5, seed=4)
        assert code == 0, err
        remote = cli_json(capsys, "judge", "run-test", "--store", server.url, "--home", str(home))
        again = cli_json(capsys, "judge", "run-test", "--store", server.url, "--home", str(home))
    assert remote["table"] == local["table"] and remote["new_llm_calls"] == local["new_llm_calls"]
    assert again == {**remote, "new_llm_calls": 0}
