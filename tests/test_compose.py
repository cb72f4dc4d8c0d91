"""docker-compose.yml: valid against the compose-spec schema (no Docker engine here) and
wired as designed: NATS with JetStream on a volume, one service per agent role, the
orchestrator and verifier scalable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchagent.cli import make_parser
from benchagent.commands.agent import ROLES

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
SCALABLE = ("orchestrator", "verifier")


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # The compose-spec schema vendored inside check-jsonschema: no network needed.
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_matches_the_compose_spec() -> None:
    result = check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path, compose: dict) -> None:
    broken = dict(compose)
    # A misspelt key: the spec allows only its own keys and x-* extensions.
    broken["services"] = {**compose["services"], "nats": {**compose["services"]["nats"],
                                                          "contianer_name": "nats"}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert check_compose_schema(path).returncode != 0


def test_one_service_per_role_running_benchagent_agent(compose: dict) -> None:
    services = compose["services"]
    assert set(ROLES) <= set(services)
    parser = make_parser()
    for role in ROLES:
        service = services[role]
        args = parser.parse_args(service["command"])  # the CLI accepts it as written
        assert (args.command, args.role, args.nats) == ("agent", role, "nats://nats:4222")
        assert service["depends_on"]["nats"]["condition"] == "service_healthy"
        assert service["build"]["context"] == "."
    assert (REPO / services["design"]["build"]["dockerfile"]).is_file()


def test_orchestrator_and_verifier_can_be_scaled(compose: dict) -> None:
    for role in SCALABLE:
        service = compose["services"][role]
        # A fixed name or host port would make `docker compose up --scale` fail.
        assert "container_name" not in service
        assert "ports" not in service


def test_nats_runs_jetstream_on_a_volume(compose: dict) -> None:
    nats = compose["services"]["nats"]
    assert "--jetstream" in nats["command"] or "-js" in nats["command"]
    store_flag = "--store_dir" if "--store_dir" in nats["command"] else "-sd"
    store_dir = nats["command"][nats["command"].index(store_flag) + 1]
    volumes = {v.split(":")[1]: v.split(":")[0] for v in nats["volumes"]}
    assert volumes[store_dir] in compose["volumes"]


def test_dockerfile_runs_the_cli() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["benchagent"]' in text
    for package in ("benchagent", "store", "bus", "agents", "tools", "replay"):
        assert f"COPY {package} ./{package}" in text


def _interpolated(value: str) -> str:
    """What compose makes of a string: ${VAR:-default} → default (VAR unset), $$ → $."""
    import re

    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value).replace("$$", "$")


def test_the_watcher_service_runs_benchagent_watch(compose: dict) -> None:
    from benchagent.commands.watch import check_args

    service = compose["services"]["watcher"]
    argv = [_interpolated(a) for a in service["command"]]
    args = make_parser().parse_args(argv)
    assert (args.command, args.store, args.remote_agents) == ("watch", "nats://nats:4222", True)
    sources, settings = check_args(args)  # the defaults are valid input
    assert [s.name for s in sources] == ["catalogue"]
    assert settings.heartbeat == "/tmp/benchagent-watch.alive"
    assert service["depends_on"]["nats"]["condition"] == "service_healthy"
    assert service["stop_signal"] == "SIGTERM"


def test_the_watcher_health_check_reads_the_heartbeat(compose: dict, tmp_path: Path) -> None:
    import os
    import time

    test = compose["services"]["watcher"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    heartbeat = tmp_path / "alive"
    script = _interpolated(test[1]).replace("/tmp/benchagent-watch.alive", str(heartbeat))

    def healthy() -> bool:
        return subprocess.run(["sh", "-c", script], timeout=30).returncode == 0

    assert not healthy()  # no poll completed yet
    heartbeat.write_text("{}")
    assert healthy()
    stale = time.time() - 10 * 60
    os.utime(heartbeat, (stale, stale))
    assert not healthy()  # no poll for ten minutes
