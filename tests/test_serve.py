"""The real server: several worker processes share everything a client can observe."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.databases import REDIS_URL
from tests.platform.test_metrics import sample

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="several workers need AIBOS_REDIS_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_workers(database_url: str, cache_namespace: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "AIBOS_ENV": "test",
        "AIBOS_DATABASE_URL": database_url,
        "AIBOS_CACHE_NAMESPACE": cache_namespace,
        "AIBOS_LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "aibos", "serve", "--workers", "2", "--port", str(port)], env=env
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base_url)
        yield base_url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


def _wait_until_ready(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/api/v1/health/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the server did not become ready")


def test_metrics_count_every_request_whichever_worker_answered(two_workers: str) -> None:
    fresh_connection = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=two_workers, limits=fresh_connection) as client:
        for _ in range(40):
            assert client.get("/api/v1/health").status_code == 200
        metrics = client.get("/metrics").text

    labels = {"method": "GET", "route": "/api/v1/health", "status": "200"}
    assert sample(metrics, "aibos_http_requests_total", **labels) == 40
