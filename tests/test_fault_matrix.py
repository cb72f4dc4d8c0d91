"""The fault matrix: every case ends with the same `benchmark.jsonl` and `media/` as an
undisturbed build, no sample lost, and 0 answered model calls paid twice, counted AT THE
MODEL SERVER (tools/llm/scripted_server.py over real HTTP, one server per case).

NATS mode, six `benchagent agent` processes on a real nats-server (one fleet for the cases):
- kill -9 each role's process once mid-run (one case per role), then restart it;
- restart the NATS server mid-run;
- the model server unreachable for 30 s mid-run: the run stops (beyond the workers' retry
  budget), `build --resume` after the outage finishes it.
Embedded mode (SQLite, `benchagent build` processes):
- two builds at once on one home (and a third process refused the running run);
- kill -9 at 10 seeded random moments, then resume.

A process is killed only when every answer the server wrote is in the log (the server
holds new answers back meanwhile): an answer sent but never recorded is lost with its
process and must be asked again, which no design avoids (tests/faults.py). Each case
prints one row of the results table (`-s` shows them).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from agents.registry import ALL_ROLES
from store.jetstream_log import JetStreamEventLog
from store.sqlite_log import SQLiteEventLog
from tests.agents.scripted_brain import brain
from tests.conftest import GENERAL_BENCH
from tests.faults import kill_between_answers, recorded_answers_sqlite, wait_for
from tests.nats_server import NatsServer
from tools.llm.scripted_server import ScriptedServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
# Text subtasks and an image one (its media resized by a tool): media/ is not empty.
REQUIREMENT = ("I want to evaluate whether a model can reason about causes and effects in "
               "everyday events and recognise what an image shows")
SIZE, SEED = 6, 5
LATENCY_S = 0.05  # per model call: long enough for calls to be in flight when a fault hits
OUTAGE_S = 30.0
ACK_WAIT_S = 5.0
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
# What each role's process is doing when it is killed: the purpose of a call in flight.
LLM_PURPOSE = {"design": "design.", "grounding": "grounding.",
               "orchestrator": "orchestrator.", "verifier": "verifier."}


class Benchmark(msgspec.Struct, frozen=True):
    """What a case must reproduce: benchmark.jsonl's bytes and media/ by sha256."""

    jsonl: bytes
    media: dict[str, str]

    @classmethod
    def of(cls, folder: Path) -> Benchmark:
        media = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted((folder / "media").glob("*"))}
        return cls((folder / "benchmark.jsonl").read_bytes(), media)

    @property
    def items(self) -> int:
        return len(self.jsonl.splitlines())


def build_argv(home: Path, run_id: str, model: ScriptedServer, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchagent", "build", REQUIREMENT, "--size", str(SIZE),
            "--seed", str(SEED), "--llm", f"openai:brain@{model.base_url}",
            "--eval-model", f"openai:evalbrain@{model.base_url}", "--pool", str(GENERAL_BENCH),
            "--home", str(home), "--run-id", run_id, "--json", *extra]


def resume_argv(home: Path, run_id: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchagent", "build", "--resume", run_id, "--home", str(home),
            "--json", *extra]


def start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes], timeout: float = 300) -> tuple[int, dict, str]:
    out, err = proc.communicate(timeout=timeout)
    docs = [line for line in out.decode().splitlines() if line.startswith("{")]
    return proc.returncode, json.loads(docs[-1]) if docs else {}, err.decode()


def row(case: str, got: Benchmark, want: Benchmark, model: ScriptedServer, seconds: float,
        note: str = "") -> dict:
    result = {"case": case, "same_bytes": got == want, "items": f"{got.items}/{want.items}",
              "answered": model.answered_total(), "paid_twice": model.paid_twice(),
              "abandoned": model.outcomes.get("abandoned", 0), "seconds": round(seconds, 1),
              "note": note}
    print(f"\nfault-matrix | {case} | same bytes {result['same_bytes']} | items "
          f"{result['items']} | answered {result['answered']} | paid twice "
          f"{result['paid_twice']} | abandoned {result['abandoned']} | {result['seconds']} s"
          f"{' | ' + note if note else ''}", flush=True)
    return result


def check(result: dict) -> None:
    assert result["same_bytes"], result
    assert result["paid_twice"] == 0, result


# ------------------------------------------------------------------- baseline


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Benchmark:
    """The undisturbed build (embedded mode; NATS mode gives the same bytes:
    tests/test_build_modes.py)."""
    if not (GENERAL_BENCH / "dataset_cards").is_dir():
        pytest.skip(f"General-Bench subset not found at {GENERAL_BENCH}")
    home = tmp_path_factory.mktemp("baseline")
    with ScriptedServer(brain, latency_s=LATENCY_S) as model:
        code, doc, err = finish(start(build_argv(home, "base", model)))
        assert code == 0, err[-3000:]
        assert model.paid_twice() == 0
    got = Benchmark.of(Path(doc["out_dir"]))
    assert got.items == doc["accepted"] > 0 and got.media
    return got


# ------------------------------------------------------------------ NATS mode


class LogWatcher:
    """A JetStream log read from a thread of its own (the test's own thread polls it)."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._log = self._run(JetStreamEventLog.connect(url))

    def _run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    def types(self, run_id: str) -> Counter[str]:
        return Counter(e.type for e in self._run(self._log.read(run_id)))

    def answers(self, run_id: str) -> Callable[[], int]:
        def count() -> int:
            return sum(1 for e in self._run(self._log.read(run_id))
                       if e.type == "LLMCallRecorded" and e.payload.error is None
                       and e.payload.answer is not None)
        return count

    def close(self) -> None:
        self._run(self._log.close())
        self._run(_cancel_the_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def _cancel_the_rest() -> None:
    """Cancel what the closed log left running on its loop (its background timers)."""
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class Fleet:
    """Six `benchagent agent` processes, one per role, on one nats-server."""

    def __init__(self, nats: NatsServer) -> None:
        self.nats = nats
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, role: str) -> None:
        many = ["--workers", "4"] if role in ("orchestrator", "verifier") else []
        self.procs[role] = subprocess.Popen(
            [sys.executable, "-m", "benchagent", "agent", "--role", role, "--nats",
             self.nats.url, "--ack-wait", str(ACK_WAIT_S), *many],
            cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ensure_all(self) -> None:
        for role in ALL_ROLES:
            if role not in self.procs or self.procs[role].poll() is not None:
                self.start(role)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with NatsServer(tmp_path_factory.mktemp("nats")) as nats:
        agents = Fleet(nats)
        agents.ensure_all()
        try:
            yield agents
        finally:
            agents.stop()


def nats_build(fleet: Fleet, home: Path, run_id: str,
               model: ScriptedServer) -> subprocess.Popen[bytes]:
    fleet.ensure_all()
    return start(build_argv(home, run_id, model, "--store", fleet.nats.url, "--remote-agents"))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_kill_9_of_a_role_process_mid_run(fleet: Fleet, baseline: Benchmark, tmp_path: Path,
                                          role: str) -> None:
    t0 = time.monotonic()
    run_id = f"kill-{role}"
    watcher = LogWatcher(fleet.nats.url)
    try:
        with ScriptedServer(brain, latency_s=LATENCY_S) as model:
            client = nats_build(fleet, tmp_path, run_id, model)
            victim = fleet.procs[role]
            if role in LLM_PURPOSE:
                def busy() -> bool:
                    return any(p.startswith(LLM_PURPOSE[role]) for p in model.inflight_purposes())
            elif role == "evaluator":
                def busy() -> bool:
                    return "text" in model.inflight_purposes() and \
                        watcher.types(run_id)["EvaluationRequested"] > 0
            else:  # allocation makes no model call: it is killed while grounding works, so
                def busy() -> bool:  # its input arrives while it is dead
                    return any(p.startswith("grounding.") for p in model.inflight_purposes())
            kill_between_answers(victim, model, watcher.answers(run_id), when=busy, build=client)
            if role == "allocation":
                wait_for(lambda: watcher.types(run_id)["SubtasksGrounded"] > 0, timeout=180,
                         what="grounding done while allocation is dead", proc=client)
            fleet.start(role)
            code, doc, err = finish(client)
            assert code == 0, err[-3000:]
            result = row(f"NATS: kill -9 {role}, restart", Benchmark.of(Path(doc["out_dir"])),
                         baseline, model, time.monotonic() - t0)
    finally:
        watcher.close()
    check(result)


def test_nats_server_restart_mid_run(fleet: Fleet, baseline: Benchmark, tmp_path: Path) -> None:
    t0 = time.monotonic()
    with ScriptedServer(brain, latency_s=LATENCY_S) as model:
        client = nats_build(fleet, tmp_path, "nats-restart", model)
        wait_for(lambda: any(p.startswith("orchestrator.") for p in model.inflight_purposes()),
                 timeout=180, what="realization under way", proc=client)
        fleet.nats.restart()
        code, doc, err = finish(client)
        assert code == 0, err[-3000:]
        result = row("NATS: nats-server restarted", Benchmark.of(Path(doc["out_dir"])), baseline,
                     model, time.monotonic() - t0)
    check(result)


def test_model_server_unreachable_for_30_s(fleet: Fleet, baseline: Benchmark,
                                          tmp_path: Path) -> None:
    t0 = time.monotonic()
    run_id = "model-outage"
    watcher = LogWatcher(fleet.nats.url)
    try:
        with ScriptedServer(brain, latency_s=LATENCY_S) as model:
            client = nats_build(fleet, tmp_path, run_id, model)
            wait_for(lambda: any(p.startswith("orchestrator.")
                                 for p in model.inflight_purposes()),
                     timeout=180, what="realization under way", proc=client)
            model.stop()
            down = time.monotonic()
            # Beyond the workers' retry budget: the run stops, the build says how to resume.
            code, doc, err = finish(client, timeout=120)
            assert code == 75, err[-3000:]
            assert f"benchagent build --resume {run_id}" in err.strip().splitlines()[-1]
            assert doc["status"] == "stopped"
            types = watcher.types(run_id)
            assert types["RunStopped"] >= 1 and types["RunFailed"] == 0
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))  # the outage lasts 30 s
            model.start()
            code, doc, err = finish(start(resume_argv(tmp_path, run_id, "--store",
                                                      fleet.nats.url, "--remote-agents")))
            assert code == 0, err[-3000:]
            assert watcher.types(run_id)["RunResumed"] == 1
            result = row("NATS: model server down 30 s (stop, resume)",
                         Benchmark.of(Path(doc["out_dir"])), baseline, model,
                         time.monotonic() - t0, note=f"{types['RunStopped']} RunStopped")
    finally:
        watcher.close()
    check(result)


# ----------------------------------------------------------------- embedded mode


def test_two_builds_at_once_on_one_home(baseline: Benchmark, tmp_path: Path) -> None:
    t0 = time.monotonic()
    home = tmp_path / "home"
    with ScriptedServer(brain, latency_s=LATENCY_S) as first_model, \
            ScriptedServer(brain, latency_s=LATENCY_S) as second_model:
        builds = [start(build_argv(home, "first", first_model)),
                  start(build_argv(home, "second", second_model))]
        # A third process may not drive a run that is being built (held mid-run meanwhile).
        wait_for(lambda: first_model.calls > 0, timeout=180, what="the first build running",
                 proc=builds[0])
        with first_model.holding_answers():
            intruder = subprocess.run(resume_argv(home, "first"), cwd=REPO, env=ENV,
                                      capture_output=True, timeout=120)
        assert intruder.returncode == 2
        assert b"run first is being built by pid" in intruder.stderr
        results = []
        for proc, model, run_id in zip(builds, (first_model, second_model), ("first", "second"),
                                       strict=True):
            code, doc, err = finish(proc)
            assert code == 0, err[-3000:]
            results.append(row(f"embedded: two builds at once ({run_id})",
                               Benchmark.of(Path(doc["out_dir"])), baseline, model,
                               time.monotonic() - t0))
    for result in results:
        check(result)


def working(model: ScriptedServer, proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """Whether the (re)started build got a new answer from the model, or exited."""
    answered = model.answered_total()
    return lambda: model.answered_total() > answered or proc.poll() is not None


def test_kill_9_at_10_seeded_moments_then_resume(baseline: Benchmark, tmp_path: Path) -> None:
    t0 = time.monotonic()
    home, run_id = tmp_path / "home", "killed"
    rng = random.Random(8)
    recorded = recorded_answers_sqlite(home / "events.db")
    kills = 0
    # Slower calls here: ten moments must fall inside the run's model work.
    with ScriptedServer(brain, latency_s=16 * LATENCY_S) as model:
        proc = start(build_argv(home, run_id, model))
        for _ in range(10):
            moment = rng.uniform(0.1, 1.0)  # seconds of model work after (re)starting
            wait_for(working(model, proc), timeout=180, what="the build at work")
            if proc.poll() is not None:
                break  # it finished before this kill: the remaining kills have nothing to hit
            time.sleep(moment)
            if proc.poll() is not None:
                break
            kill_between_answers(proc, model, recorded)
            kills += 1
            proc = start(resume_argv(home, run_id))
        code, doc, err = finish(proc)
        if code != 0 or not doc.get("out_dir"):  # killed after its last moment: one more resume
            code, doc, err = finish(start(resume_argv(home, run_id)))
        if code != 0 and "already completed and its folder is written" in err:
            # the last kill came after the folder was written: the run is done, not lost
            code, doc = 0, {"out_dir": str(home / "runs" / run_id)}
        assert code == 0, err[-3000:]
        result = row("embedded: kill -9 at 10 seeded moments, resume",
                     Benchmark.of(Path(doc["out_dir"])), baseline, model, time.monotonic() - t0,
                     note=f"{kills} kills")

    async def resumes() -> int:
        log = SQLiteEventLog(home / "events.db")
        try:
            return sum(1 for e in await log.read(run_id) if e.type == "RunResumed")
        finally:
            await log.close()

    assert kills == 10, f"only {kills} kills landed before the build finished"
    assert asyncio.run(resumes()) == kills
    check(result)
