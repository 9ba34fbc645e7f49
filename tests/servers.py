"""Real `aibos serve` processes, started and stopped the way an operator or orchestrator does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]

    def signal_all(self, signal_number: int) -> None:
        """Signal the server and its workers, as a terminal or a process manager may."""
        os.killpg(self.process.pid, signal_number)

    def stop(self, signal_number: int = signal.SIGTERM, timeout: float = 30) -> float:
        """Signal the server and wait for it to exit; the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal_number)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started


@contextmanager
def aibos_server(
    database_url: str,
    cache_namespace: str,
    *,
    workers: int = 1,
    ready: tuple[str, int] = ("/api/v1/health/ready", 200),
    **settings: str,
) -> Iterator[Server]:
    """`aibos serve` on a free port, once `ready` (a path and the status it answers); stopped
    with SIGINT if the test did not stop it."""
    port = free_port()
    env = {
        **os.environ,
        "AIBOS_ENV": "test",
        "AIBOS_DATABASE_URL": database_url,
        "AIBOS_CACHE_NAMESPACE": cache_namespace,
        "AIBOS_LOG_LEVEL": os.environ.get("TEST_SERVER_LOG_LEVEL", "WARNING"),
        "AIBOS_MIGRATE_ON_START": "false",
        **{f"AIBOS_{name.upper()}": value for name, value in settings.items()},
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "aibos", "serve", "--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603 (our own command)
        [*command, "--port", str(port)], env=env, start_new_session=True
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_until_answering(server.base_url + ready[0], ready[1])
        yield server
    finally:
        if process.poll() is None:
            server.stop(signal.SIGINT)


def wait_until_answering(url: str, status: int) -> None:
    deadline = time.monotonic() + 60  # a loaded machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the server did not become ready")
