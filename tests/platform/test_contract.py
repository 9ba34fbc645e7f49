"""What the OpenAPI document declares is what the API sends, route by route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.people import admin

PROBLEM = "application/problem+json"


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_a_422_is_declared_as_a_validation_or_a_business_rule_problem(
    document: dict[str, Any],
) -> None:
    unprocessable = document["paths"]["/api/v1/ledger/entries"]["post"]["responses"]["422"]

    choices = unprocessable["content"][PROBLEM]["schema"]["anyOf"]
    assert {choice["$ref"].rsplit("/", 1)[1] for choice in choices} == {
        "ValidationProblem",
        "Problem",
    }
    assert "errors" not in document["components"]["schemas"]["Problem"]["required"]


async def test_a_business_rule_422_has_no_errors_list(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boss = await admin(app, client)

    response = await client.get(
        "/api/v1/ledger/reports/profit-or-loss",
        params={"start": "2030-02-01", "end": "2030-01-01"},
        headers=boss.headers,
    )

    assert response.status_code == 422
    assert "errors" not in response.json()


async def test_revoke_answers_json(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    response = await client.post("/api/v1/auth/revoke", json={"token": "not-a-token"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]
    declared = document["paths"]["/api/v1/auth/revoke"]["post"]["responses"]["200"]
    assert "application/json" in declared["content"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ledger/reports/trial-balance",
        "/api/v1/ledger/reports/profit-or-loss",
        "/api/v1/ledger/reports/financial-position",
        "/api/v1/ledger/accounts/{account_id}/balance",
        "/api/v1/ledger/accounts/{account_id}/ledger",
        "/api/v1/ledger/accounts/export",
    ],
)
def test_csv_answers_are_declared(document: dict[str, Any], path: str) -> None:
    assert "text/csv" in document["paths"][path]["get"]["responses"]["200"]["content"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/ledger/accounts", {"GET", "POST"}),
        ("DELETE", "/api/v1/users", {"GET", "POST"}),
        ("PUT", "/api/v1/users/me", {"GET", "PATCH"}),
        ("PATCH", "/api/v1/ledger/accounts/export", {"GET"}),
        ("PUT", "/api/v1/ledger/entries/batch", {"POST"}),
        (
            "POST",
            "/api/v1/users/6f1c2c1e-1d7e-4c53-9d7b-6c1f7d0f9a11",
            {"GET", "PATCH", "PUT", "DELETE"},
        ),
    ],
)
async def test_a_405_lists_every_method_of_the_path(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    boss = await admin(app, client)

    response = await client.request(method, path, headers=boss.headers)

    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == PROBLEM
    assert set(response.headers["allow"].split(", ")) == allowed


async def test_a_word_where_an_id_goes_is_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boss = await admin(app, client)

    response = await client.get("/api/v1/ledger/entries/not-an-id", headers=boss.headers)

    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("UserSelfUpdate", "email"),
        ("UserSelfUpdate", "full_name"),
        ("UserUpdate", "email_verified"),
        ("AccountUpdate", "mfrs_class"),
        ("AccountUpdate", "is_active"),
    ],
)
def test_fields_that_refuse_null_are_not_shown_as_nullable(
    document: dict[str, Any], schema: str, field: str
) -> None:
    declared = document["components"]["schemas"][schema]["properties"][field]

    assert "anyOf" not in declared
    assert declared.get("type") != "null"


async def test_null_for_such_a_field_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    boss = await admin(app, client)

    response = await client.patch("/api/v1/users/me", json={"email": None}, headers=boss.headers)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.email"]


def test_the_idempotency_key_limits_are_documented(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/api/v1/ledger/entries"]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")

    schema = key["schema"]["anyOf"][0]
    assert (schema["minLength"], schema["maxLength"]) == (1, 255)
    assert schema["pattern"]
    assert "255" in key["description"]


async def test_flags_in_user_bodies_and_queries_are_strict(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boss = await admin(app, client)

    patched = await client.patch(
        f"/api/v1/users/{boss.id}", json={"email_verified": 0}, headers=boss.headers
    )
    listed = await client.get("/api/v1/users", params={"is_active": "0"}, headers=boss.headers)

    assert patched.status_code == listed.status_code == 422
    assert [error["field"] for error in patched.json()["errors"]] == ["body.email_verified"]
    assert [error["field"] for error in listed.json()["errors"]] == ["query.is_active"]
    me = await client.get("/api/v1/users/me", headers=boss.headers)
    assert me.json()["email_verified"] is True
