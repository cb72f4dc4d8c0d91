"""Two kinds of failure, on a real HTTP model server and real SQLite files.

"The world failed" (the model server unreachable beyond the retry budget) stops the run:
`RunStopped` in the log, exit 75 and a line naming `benchagent build --resume RUN_ID`,
`runs` shows it resumable; the resume (`RunResumed`) re-delivers what waited, reuses every
recorded answer (0 answered calls paid twice, counted at the server) and gives the same
benchmark as an undisturbed build. "The run is wrong" (a 401) is final: `--resume` refuses
it in one line. One writer per run: a run being built elsewhere is refused, and the lock
dies with its process.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchagent.cli import main
from benchagent.run_lock import is_folder_locked
from replay.benchmark_files import benchmark_hash
from tests.agents.build_helpers import REQUIREMENT, build, of_type, read_events
from tests.agents.scripted_brain import brain
from tests.faults import kill_between_answers, recorded_answers_sqlite, wait_for
from tools.llm.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]
RUN = "run-test"
TIGHT_BUDGET = "llm_attempts: 2\nllm_backoff_s: 0.05\n"  # a short retry budget: stops fast


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def stop_after(server: ScriptedServer, answered: int) -> threading.Thread:
    """Take the server down once it has answered `answered` calls (an outage mid-run)."""
    def watch() -> None:
        done = threading.Event()
        while not done.wait(0.01):
            if sum(server.answered.values()) >= answered:
                server.stop()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def runs_row(capsys: pytest.CaptureFixture[str], home: Path) -> dict:
    code, out, _ = run_cli(capsys, "runs", "--home", str(home), "--json")
    assert code == 0
    (row,) = [r for r in json.loads(out)["runs"] if r["run_id"] == RUN]
    return row


def test_an_outage_beyond_the_retry_budget_stops_the_run_and_resume_finishes_it(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    config = tmp_path / "tight.yaml"
    config.write_text(TIGHT_BUDGET)
    home = tmp_path / "home"
    with ScriptedServer(brain) as model:
        llm = f"openai:brain@{model.base_url}"
        watcher = stop_after(model, 30)
        code, doc, err = build(capsys, home, general_bench, "--config", str(config), size=10,
                               llm=llm)
        watcher.join(timeout=5)
        assert code == 75, err
        line = err.strip().splitlines()[-1]
        assert line.startswith(f"benchagent: run {RUN} stopped at ") and "ModelUnavailable" in line
        assert line.endswith(f"resume it with `benchagent build --resume {RUN}`")
        assert doc is not None and doc["status"] == "stopped"
        events = read_events(home)
        (stop, *_) = of_type(events, "RunStopped")
        assert stop.payload.cause == "model_unavailable" and stop.causation_id is not None
        assert not of_type(events, "RunFailed") and not of_type(events, "BenchmarkPublished")
        row = runs_row(capsys, home)
        assert row["status"] == "stopped" and row["resumable"]
        assert row["resume"] == f"benchagent build --resume {RUN}"

        # Still down: the resume stops again, recorded as a second stop.
        code, _, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home), "--config",
                               str(config))
        assert code == 75 and "--resume" in err
        assert len(of_type(read_events(home), "RunResumed")) == 1
        assert len(of_type(read_events(home), "RunStopped")) >= 2

        model.start()  # the server is back, on the same port
        code, out, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home),
                                 "--config", str(config), "--json")
        assert code == 0, err
        resumed = json.loads(out.strip().splitlines()[-1])
        assert resumed["status"] == "completed"
        assert model.paid_twice() == 0  # every recorded answer was reused
    events = read_events(home)
    assert len(of_type(events, "RunResumed")) == 2
    last_stop = of_type(events, "RunStopped")[-1]
    assert of_type(events, "RunResumed")[-1].payload.stopped_seq is not None
    assert of_type(events, "RunResumed")[-1].seq > last_stop.seq
    assert runs_row(capsys, home)["status"] == "completed"
    # The same benchmark as a build the outage never touched.
    with ScriptedServer(brain) as steady:
        code, clean, err = build(capsys, tmp_path / "steady", general_bench, size=10,
                                 llm=f"openai:brain@{steady.base_url}")
    assert code == 0, err
    assert clean["content_hash"] == resumed["content_hash"]
    run_dir = Path("runs") / RUN
    for name in ("benchmark.jsonl",):
        assert (home / run_dir / name).read_bytes() == (tmp_path / "steady" / run_dir
                                                        / name).read_bytes()
    assert benchmark_hash(home / run_dir) == benchmark_hash(tmp_path / "steady" / run_dir)


def test_a_final_failure_is_not_resumed(tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    with ScriptedServer(brain, failure_rate=1.0, failure_kinds=("401",)) as refusing:
        code, doc, _ = build(capsys, home, general_bench, size=4,
                             llm=f"openai:brain@{refusing.base_url}")
        assert code == 1 and doc is not None and doc["status"] == "failed"
        assert not runs_row(capsys, home)["resumable"]
        code, _, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home))
        calls = refusing.calls
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"cannot resume {RUN}: it failed at design and that failure is final" in err
    assert "start a new build" in err
    assert calls == 1  # the refused resume called nobody


def test_a_run_being_built_elsewhere_is_refused_until_its_process_dies(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    with ScriptedServer(brain, latency_s=0.5) as slow:
        argv = [sys.executable, "-m", "benchagent", "build", REQUIREMENT, "--size", "6",
                "--llm", f"openai:brain@{slow.base_url}", "--pool", str(general_bench),
                "--home", str(home), "--run-id", RUN]
        proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            wait_for(lambda: slow.calls >= 1 and is_folder_locked(home, RUN), timeout=120,
                     what="the build holding its lock", proc=proc)
            code, _, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home))
            assert code == 2 and len(err.strip().splitlines()) == 1, err
            assert f"run {RUN} is being built by pid {proc.pid}" in err
            # kill -9: no cleanup at all, the OS drops the lock
            kill_between_answers(proc, slow, recorded_answers_sqlite(home / "events.db"))
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr:
                proc.stderr.close()
        assert not is_folder_locked(home, RUN)
        assert runs_row(capsys, home)["status"] == "interrupted"
        code, out, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home), "--json")
        assert code == 0, err
        assert slow.paid_twice() == 0


def test_a_nats_run_is_leased_to_one_build_and_a_dead_holders_lease_expires(
        tmp_path: Path, capsys) -> None:
    from benchagent.run_lock import lease_bucket, lease_holder, nats_lease
    from store.nats_connect import connect_nats
    from tests.nats_server import NatsServer

    with NatsServer(tmp_path / "nats") as nats:
        store = ("--store", nats.url)

        async def dead_holder() -> None:  # took the lease, then died without renewing it
            nc = await connect_nats(nats.url)
            kv = await lease_bucket(nc, lease_s=6.0)  # the bucket is made with this TTL
            await kv.create("run.gone", b"pid 999 on elsewhere")
            await nc.close()

        async def holder_of(run_id: str) -> str | None:
            nc = await connect_nats(nats.url)
            try:
                return await lease_holder(await lease_bucket(nc), run_id)
            finally:
                await nc.close()

        asyncio.run(dead_holder())
        code, _, err = run_cli(capsys, "build", "--resume", "gone", *store)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert "run gone is being built by pid 999 on elsewhere" in err
        assert "expires within" in err
        wait_for(lambda: asyncio.run(holder_of("gone")) is None, timeout=30,
                 what="the dead holder's lease to expire")
        code, _, err = run_cli(capsys, "build", "--resume", "gone", *store)
        assert code == 2 and "no such run" in err  # past the lease: the run itself is missing

        # A live holder renews its lease: refused while it holds it, free once it lets go.
        held, release = threading.Event(), threading.Event()

        def live_holder() -> None:
            async def hold() -> None:
                async with nats_lease(nats.url, "live", lease_s=6.0):
                    held.set()
                    await asyncio.to_thread(release.wait, 60)

            asyncio.run(hold())

        thread = threading.Thread(target=live_holder)
        thread.start()
        try:
            assert held.wait(30)
            time.sleep(7.0)  # longer than the lease: only renewal keeps it
            code, _, err = run_cli(capsys, "build", "--resume", "live", *store)
            assert code == 2 and f"run live is being built by pid {os.getpid()}" in err
        finally:
            release.set()
            thread.join(timeout=30)
        assert asyncio.run(holder_of("live")) is None  # released at once, not by expiry


def test_a_run_killed_after_completing_but_before_its_folder_is_written_resumes_to_it(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, size=4)
    assert code == 0, err
    folder = Path(doc["out_dir"])
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    shutil.rmtree(folder)  # as if killed between RunCompleted and writing the folder
    code, out, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home), "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["status"] == "completed"
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()} == before
    assert not of_type(read_events(home), "RunResumed")  # nothing was left to drive
    code, _, err = run_cli(capsys, "build", "--resume", RUN, "--home", str(home))
    assert code == 2 and "already completed and its folder is written" in err


def test_an_evaluation_stopped_by_an_outage_is_finished_by_running_it_again(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    home = tmp_path / "home"
    code, doc, err = build(capsys, home, general_bench, size=6)
    assert code == 0, err
    with ScriptedServer(brain, latency_s=0.05) as model:
        spec = f"openai:evalbrain@{model.base_url}"
        watcher = stop_after(model, 2)
        code, _, err = run_cli(capsys, "eval", RUN, "--model", spec, "--home", str(home),
                               "--llm-concurrency", "1")
        watcher.join(timeout=5)
        assert code == 1 and "run the same `benchagent eval` again" in err, err
        assert of_type(read_events(home), "RunStopped")
        model.start()
        code, out, err = run_cli(capsys, "eval", RUN, "--model", spec, "--home", str(home),
                                 "--json")
        assert code == 0, err
        (score,) = json.loads(out)["evaluations"]
        assert score["n"] == doc["accepted"]
        assert model.paid_twice() == 0
    assert of_type(read_events(home), "RunResumed")
