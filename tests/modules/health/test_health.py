import time

import httpx
from fastapi import FastAPI

from aibos import __version__
from tests.conftest import ClientFactory
from tests.databases import throwaway_database
from tests.people import admin, sign_up
from tests.servers import aibos_server


async def test_liveness_reports_version_environment_and_uptime(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["environment"] == "test"
    assert body["uptime_seconds"] >= 0


async def test_ready_when_every_dependency_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "checks": {"database": "up", "cache": "up", "migrations": "up"},
    }


async def test_detailed_gives_latency_and_findings_of_each_check(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/api/v1/health/detailed", headers=(await admin(app, client)).headers
    )

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "migrations"}
    assert all(check["latency_ms"] >= 0 for check in checks.values())
    assert checks["migrations"]["detail"].startswith("at head")


async def test_a_dead_cache_degrades_but_keeps_serving(make_client: ClientFactory) -> None:
    async with make_client(redis_url="redis://127.0.0.1:1/0") as client:
        response = await client.get("/api/v1/health/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] == "down"


async def test_a_hung_cache_answers_within_its_timeout(
    app: FastAPI, client: httpx.AsyncClient, make_client: ClientFactory, silent_server: int
) -> None:
    administrator = await admin(app, client)  # signed in where Redis answers
    async with make_client(
        redis_url=f"redis://127.0.0.1:{silent_server}/0",
        redis_timeout_seconds=30,
        health_check_timeout_seconds=0.5,
    ) as hung:
        started = time.perf_counter()
        response = await hung.get("/api/v1/health/detailed", headers=administrator.headers)
        elapsed = time.perf_counter() - started

    assert elapsed < 3
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["detail"] == "no answer within 0.5s"


async def test_a_hung_database_is_unhealthy_within_its_timeout(
    make_client: ClientFactory, silent_server: int
) -> None:
    async with make_client(
        database_url=f"postgresql+asyncpg://aibos@127.0.0.1:{silent_server}/aibos",
        health_check_timeout_seconds=0.5,
    ) as client:
        started = time.perf_counter()
        response = await client.get("/api/v1/health/ready")
        elapsed = time.perf_counter() - started

    assert elapsed < 3
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["database"] == "down"


async def test_a_database_behind_the_migration_head_is_unhealthy(
    make_client: ClientFactory,
) -> None:
    async with throwaway_database() as empty, make_client(database_url=empty) as client:
        response = await client.get("/api/v1/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "up", "cache": "up", "migrations": "down"}


async def test_an_empty_database_is_migrated_on_start_in_development(
    make_client: ClientFactory,
) -> None:
    async with (
        throwaway_database() as empty,
        make_client(database_url=empty, migrate_on_start=None, env="development") as client,
    ):
        response = await client.get("/api/v1/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["migrations"] == "up"


def test_uptime_counts_from_the_start_of_the_process_not_its_first_request(
    database_url: str, cache_namespace: str
) -> None:
    answering = ("/api/v1/users/me", 401)  # up, without asking the health module anything
    with aibos_server(database_url, cache_namespace, ready=answering) as server:
        time.sleep(2)
        first = httpx.get(f"{server.base_url}/api/v1/health")

    assert first.status_code == 200
    assert first.json()["uptime_seconds"] >= 2


async def test_detailed_health_is_for_administrators_and_readiness_for_anyone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    member, administrator = await sign_up(client), await admin(app, client)
    detailed = "/api/v1/health/detailed"

    anonymous = await client.get(detailed)
    assert anonymous.status_code == 401
    assert "database" not in anonymous.text
    assert (await client.get(detailed, headers=member.headers)).status_code == 403
    assert (await client.get(detailed, headers=administrator.headers)).status_code == 200
    assert (await client.get("/api/v1/health/ready")).status_code == 200
    assert (await client.get("/api/v1/health")).status_code == 200
