from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.platform.probes import with_probes

PROBLEM = "application/problem+json"


@pytest.fixture
async def probe_client(make_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = with_probes(create_app(make_settings(max_request_body_bytes=1024)))
    async with serve(app) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["error_code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    assert body["type"].startswith("urn:aibos:problem:")
    assert body["title"]
    assert body["detail"]
    return dict(body)


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nowhere"), 404, "NOT_FOUND")


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/health")

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_validation_names_every_bad_field_without_echoing_input(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post(
        "/probe/orders", json={"quantity": 0, "note": "far too long a note", "admin": True}
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    fields = {error["field"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"body.quantity", "body.note", "body.admin"}
    assert "far too long" not in response.text


async def test_malformed_json_is_a_422_problem(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/orders", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_declared_oversized_body_is_refused_with_413(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post("/probe/orders", content=b"x" * 2048)

    assert_problem(response, 413, "REQUEST_TOO_LARGE")


async def test_streamed_oversized_body_is_refused_with_413(
    probe_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b'{"quantity": 1, "note": "' + b"x" * 300

    response = await probe_client.post(
        "/probe/orders", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "REQUEST_TOO_LARGE")


async def test_domain_error_maps_to_its_status_and_code(probe_client: httpx.AsyncClient) -> None:
    body = assert_problem(await probe_client.get("/probe/items/404"), 404, "PROBE_NOT_FOUND")

    assert body["detail"] == "Probe 404 does not exist."
    assert body["title"] == "No such probe"


async def test_unhandled_error_is_a_500_that_leaks_nothing(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get("/probe/boom")

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["detail"] == "An unexpected error occurred."
    for secret in ("SELECT", "credentials", "postgresql", "RuntimeError", "Traceback"):
        assert secret not in response.text
