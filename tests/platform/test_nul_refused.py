"""A NUL character anywhere in a request is a 422 naming the field, on every route, before any
write (PostgreSQL text cannot hold one)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.people import admin, unique_email

NUL = "a\u0000b"
PROBLEM = "application/problem+json"


def fields_named(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["error_code"] == "VALIDATION_FAILED"
    return {error["field"] for error in body["errors"]}


async def test_anonymous_sign_up_with_a_nul_in_the_name(client: httpx.AsyncClient) -> None:
    email = unique_email()
    body = {"email": email, "password": "Tr0ub4dor-and-3", "full_name": NUL}

    response = await client.post("/api/v1/auth/register", json=body)

    assert fields_named(response) == {"body.full_name"}
    login = {"email": email, "password": "Tr0ub4dor-and-3"}
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "named"),
    [
        ("PATCH", "/api/v1/users/me", {"full_name": NUL}, "body.full_name"),
        ("POST", "/api/v1/users", {"email": "x@example.com", "full_name": NUL}, "body.full_name"),
        (
            "POST",
            "/api/v1/ledger/accounts",
            {"code": "N1", "name": NUL, "type": "asset", "mfrs_class": "current_asset"},
            "body.name",
        ),
        (
            "POST",
            "/api/v1/ledger/entries",
            {
                "entry_date": "2030-01-15",
                "description": "x",
                "lines": [{"account_code": "N1", "side": "debit", "amount": "1", "memo": NUL}],
            },
            "body.lines.0.memo",
        ),
        ("POST", "/api/v1/ledger/fiscal-years", {"start_date": "2030-01-01", NUL: 1}, "body.a\\0b"),
    ],
)
async def test_a_nul_in_a_body_field(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, body: Any, named: str
) -> None:
    boss = await admin(app, client)

    response = await client.request(method, path, json=body, headers=boss.headers)

    assert fields_named(response) == {named}
    accounts = await client.get("/api/v1/ledger/accounts", headers=boss.headers)
    assert all(account["code"] != "N1" for account in accounts.json()["data"])


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/users", "q"),
        ("/api/v1/ledger/entries", "q"),
        ("/api/v1/ledger/accounts", "q"),
        ("/api/v1/ledger/exchange-rates", "currency"),
    ],
)
async def test_a_nul_in_a_query(
    app: FastAPI, client: httpx.AsyncClient, path: str, param: str
) -> None:
    boss = await admin(app, client)

    response = await client.get(path, params={param: NUL}, headers=boss.headers)

    assert fields_named(response) == {f"query.{param}"}


async def test_a_nul_in_a_form_and_in_a_csv(app: FastAPI, client: httpx.AsyncClient) -> None:
    boss = await admin(app, client)

    login = await client.post(
        "/api/v1/auth/login", data={"username": "x@example.com", "password": NUL}
    )
    revoke = await client.post("/api/v1/auth/revoke", data={"token": NUL})
    imported = await client.post(
        "/api/v1/ledger/accounts/import",
        content="code,name,type,mfrs_class\nN1,a\x00b,asset,current_asset\n",
        headers={**boss.headers, "Content-Type": "text/csv"},
    )

    assert fields_named(login) == {"body.password"}
    assert fields_named(revoke) == {"body.token"}
    assert fields_named(imported) == {"body"}


async def test_an_escaped_backslash_is_not_taken_for_a_nul(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boss = await admin(app, client)

    response = await client.patch(
        "/api/v1/users/me",
        content='{"full_name": "back\\\\u0000slash"}',
        headers={**boss.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "back\\u0000slash"
