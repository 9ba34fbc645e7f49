"""What the auth tests check again and again: problem answers and tokens that stop working."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

PROBLEM = "application/problem+json"
ME = "/api/v1/users/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["error_code"] == code, body
    return body


def field_errors(response: httpx.Response) -> set[str]:
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    return {error["field"] for error in body["errors"]}


async def status_of_me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def refused_within(client: httpx.AsyncClient, token: str, seconds: float = 2.0) -> float:
    """Seconds until this access token is refused (401); fails if it still works after `seconds`."""
    start = time.monotonic()
    while True:
        response = await client.get(ME, headers=bearer(token))
        elapsed = time.monotonic() - start
        if response.status_code == 401:
            assert_problem(response, 401, "INVALID_TOKEN")
            return elapsed
        assert response.status_code == 200, response.text
        assert elapsed < seconds, f"the token still works after {elapsed:.2f}s"
        await asyncio.sleep(0.05)
