import httpx
from fastapi import FastAPI

from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.platform.probes import with_probes


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_requests_are_counted_by_route_template_not_raw_path(
    make_settings: SettingsFactory,
) -> None:
    app: FastAPI = with_probes(create_app(make_settings()))
    async with serve(app) as client:
        before = sample(
            (await client.get("/metrics")).text,
            "aibos_http_requests_total",
            method="GET",
            route="/probe/items/{item_id}",
            status="200",
        )
        for item in (1, 2, 3):
            await client.get(f"/probe/items/{item}")
        metrics = (await client.get("/metrics")).text

    labels = {"method": "GET", "route": "/probe/items/{item_id}", "status": "200"}
    assert sample(metrics, "aibos_http_requests_total", **labels) == before + 3
    assert sample(metrics, "aibos_http_request_duration_seconds_count", **labels) >= 3
    assert "/probe/items/1" not in metrics


async def test_module_routes_are_counted_by_their_whole_template(
    client: httpx.AsyncClient,
) -> None:
    labels = {"method": "GET", "route": "/api/v1/users/{user_id}", "status": "401"}
    before = sample((await client.get("/metrics")).text, "aibos_http_requests_total", **labels)
    await client.get("/api/v1/users/7f2c1a8e-0d3b-4c53-9a51-2b8e8f4d9c10")
    await client.get("/api/v1/users/0b7d5e7e-5c4a-4f0e-8f7e-3f2f8f6f1a22")
    metrics = (await client.get("/metrics")).text

    assert sample(metrics, "aibos_http_requests_total", **labels) == before + 2
    assert "7f2c1a8e" not in metrics


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/no/such/path/a1")
    metrics = (await client.get("/metrics")).text

    assert 'route="unmatched"' in metrics
    assert "a1" not in metrics


async def test_database_pool_gauges_are_exported(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/health/ready")
    metrics = (await client.get("/metrics")).text

    assert sample(metrics, "aibos_db_pool_connections_open") >= 1
    assert "aibos_db_pool_connections_in_use" in metrics
