"""An access token stops working within about a second of whatever should end it."""

import httpx
import pytest
from fastapi import FastAPI

from tests.modules.auth.expect import assert_problem, bearer, refused_within, status_of_me
from tests.modules.auth.tokens import claims_of
from tests.people import admin, sign_in, sign_up

REFRESH = "/api/v1/auth/refresh"
REVOKE = "/api/v1/auth/revoke"


async def test_signing_out_ends_the_session(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post("/api/v1/auth/logout", headers=person.headers)

    assert response.status_code == 204
    assert response.content == b""
    await refused_within(client, person.access_token)
    refresh = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")


async def test_signing_out_leaves_other_sessions_alone(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    elsewhere = await sign_in(client, person.email)

    await client.post("/api/v1/auth/logout", headers=person.headers)

    ended = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert_problem(ended, 401, "INVALID_REFRESH_TOKEN")
    assert await status_of_me(client, elsewhere.access_token) == 200
    assert (await client.post(REFRESH, json={"refresh_token": elsewhere.refresh_token})).is_success


async def test_signing_out_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/logout"), 401, "NOT_AUTHENTICATED")


async def test_a_deactivated_users_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    boss = await admin(app, client)

    response = await client.post(f"/api/v1/users/{person.id}/deactivate", headers=boss.headers)

    assert response.status_code == 200, response.text
    await refused_within(client, person.access_token)
    refresh = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")


async def test_a_token_of_an_ended_session_is_refused(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    elsewhere = await sign_in(client, person.email)

    response = await client.delete(
        f"/api/v1/auth/sessions/{elsewhere.session_id}", headers=person.headers
    )

    assert response.status_code == 204, response.text
    await refused_within(client, elsewhere.access_token)
    assert await status_of_me(client, person.access_token) == 200


async def test_a_role_change_retires_old_tokens_and_a_refresh_brings_the_new_roles(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    boss = await admin(app, client)

    changed = await client.put(
        f"/api/v1/users/{person.id}/roles", json={"roles": ["accountant"]}, headers=boss.headers
    )

    assert changed.status_code == 200, changed.text
    await refused_within(client, person.access_token)
    refreshed = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json()["access_token"]
    assert claims_of(token)["roles"] == ["accountant"]
    me = await client.get("/api/v1/users/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["accountant"]


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
async def test_revoking_an_unknown_token_answers_200(
    client: httpx.AsyncClient, as_form: bool
) -> None:
    body = {"token": "never-issued", "token_type_hint": "refresh_token"}

    response = await (client.post(REVOKE, data=body) if as_form else client.post(REVOKE, json=body))

    assert response.status_code == 200, response.text


async def test_revoking_without_a_token_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(REVOKE, data={"token_type_hint": "access_token"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {error["field"] for error in body["errors"]} == {"body.token"}


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
async def test_revoking_a_refresh_token_ends_its_session(
    client: httpx.AsyncClient, as_form: bool
) -> None:
    person = await sign_up(client)
    elsewhere = await sign_in(client, person.email)
    body = {"token": person.refresh_token}

    response = await (client.post(REVOKE, data=body) if as_form else client.post(REVOKE, json=body))

    assert response.status_code == 200, response.text
    refresh = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")
    await refused_within(client, person.access_token)
    assert await status_of_me(client, elsewhere.access_token) == 200


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
async def test_revoking_an_access_token_ends_its_session(
    client: httpx.AsyncClient, as_form: bool
) -> None:
    person = await sign_up(client)
    body = {"token": person.access_token, "token_type_hint": "access_token"}

    response = await (client.post(REVOKE, data=body) if as_form else client.post(REVOKE, json=body))

    assert response.status_code == 200, response.text
    await refused_within(client, person.access_token)
    refresh = await client.post(REFRESH, json={"refresh_token": person.refresh_token})
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")
