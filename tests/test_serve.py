"""The real server: several worker processes share everything a client can observe."""

from collections.abc import Iterator

import httpx
import pytest

from tests.databases import REDIS_URL
from tests.platform.test_metrics import sample
from tests.servers import aibos_server

TOKEN = "scrape-token-" + "s" * 32
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="several workers need AIBOS_REDIS_URL")


@pytest.fixture
def two_workers(database_url: str, cache_namespace: str) -> Iterator[str]:
    with aibos_server(database_url, cache_namespace, workers=2, metrics_token=TOKEN) as server:
        yield server.base_url


def test_metrics_count_every_request_whichever_worker_answered(two_workers: str) -> None:
    fresh_connection = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=two_workers, limits=fresh_connection) as client:
        for _ in range(40):
            assert client.get("/api/v1/health").status_code == 200
        assert client.get("/metrics").status_code == 401
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text

    labels = {"method": "GET", "route": "/api/v1/health", "status": "200"}
    assert sample(metrics, "aibos_http_requests_total", **labels) == 40
