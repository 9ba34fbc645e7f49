"""Shared by the users tests: problem answers, no secret in any answer, and a few steps."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.people import PASSWORD, Person, unique_email

USERS = "/api/v1/users"
PROBLEM = "application/problem+json"
SECRET_WORDS = ("password", "argon2")


@dataclass(frozen=True)
class Cast:
    """Signed-in people made once for the whole package, one for each seeded role."""

    admin: Person
    member: Person
    controller: Person
    accountant: Person
    auditor: Person

    def by_role(self, role: str) -> Person:
        person: Person = getattr(self, role)
        return person


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    request = response.request
    assert response.status_code == status, f"{request.method} {request.url}: {response.text}"
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["error_code"] == code
    return body


def bad_fields(response: httpx.Response) -> set[str]:
    """The fields a 422 names, without their `body.`/`query.` prefix."""
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    return {error["field"].split(".", 1)[1] for error in body["errors"]}


async def refuse_secrets(response: httpx.Response) -> None:
    """A response hook: no users answer may mention a password or a password hash (a problem's
    own wording may name the current_password field)."""
    if not response.request.url.path.startswith(USERS):
        return
    text = (await response.aread()).decode().lower()
    if response.headers.get("content-type") == PROBLEM:
        wording = ("type", "title", "detail", "error_code")
        text = json.dumps({k: v for k, v in json.loads(text).items() if k not in wording})
    for word in SECRET_WORDS:
        assert word not in text, f"{response.request.url.path} answered with {word!r}: {text}"


def guarded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client, with every users response checked for secrets."""
    client.event_hooks["response"] = [*client.event_hooks["response"], refuse_secrets]
    return client


async def refused_within(client: httpx.AsyncClient, person: Person, seconds: float = 2.0) -> bool:
    """Whether the person's access token stops working within this time (revocation reaches
    every process within a second, so two leave room for a slow machine)."""
    clock = asyncio.get_running_loop().time
    deadline = clock() + seconds
    while clock() < deadline:
        if (await client.get(f"{USERS}/me", headers=person.headers)).status_code == 401:
            return True
        await asyncio.sleep(0.05)
    return False


async def create(client: httpx.AsyncClient, by: Person, **fields: Any) -> dict[str, Any]:
    """A user made by an administrator (no password yet, so no argon2 to pay for)."""
    body = {"email": unique_email("made"), "full_name": "Made By Admin", **fields}
    response = await client.post(USERS, json=body, headers=by.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})
