import httpx
from fastapi import FastAPI

from aibos.platform.app import create_app
from tests.conftest import ClientFactory, SettingsFactory, serve
from tests.platform.probes import with_probes
from tests.platform.test_settings import SAFE_PRODUCTION


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


METRICS_TOKEN = "m" * 20 + "-scrape-token-of-prometheus"


async def test_metrics_with_a_token_answer_only_its_bearer(make_client: ClientFactory) -> None:
    async with make_client(metrics_token=METRICS_TOKEN) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        prefix = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"}
        )
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    for refused in (anonymous, wrong, prefix, basic):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["error_code"] == "METRICS_TOKEN_REQUIRED"
        assert "aibos_http_requests_total" not in refused.text
    assert right.status_code == 200
    assert "aibos_http_requests_total" in right.text


async def test_production_serves_metrics_only_with_a_token(make_client: ClientFactory) -> None:
    async with make_client(**SAFE_PRODUCTION) as without_token:
        assert (await without_token.get("/metrics")).status_code == 404
    async with make_client(**SAFE_PRODUCTION, metrics_token=METRICS_TOKEN) as with_token:
        assert (await with_token.get("/metrics")).status_code == 401
        scraped = await with_token.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        assert scraped.status_code == 200
