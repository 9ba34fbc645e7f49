"""Self service: your own profile at /users/me."""

import uuid
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from tests.modules.users.checks import USERS, assert_problem, bad_fields, login
from tests.people import PASSWORD, mail_to, sign_up, token_in, unique_email

ME = f"{USERS}/me"


def moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, "timestamps carry their zone"
    return parsed


async def verify(client: httpx.AsyncClient, app: FastAPI, email: str) -> httpx.Response:
    token = token_in(await mail_to(app, email, "Confirm"))
    return await client.post("/api/v1/auth/verify-email", json={"token": token})


async def test_a_new_member_sees_their_whole_profile(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.get(ME, headers=person.headers)

    assert response.status_code == 200
    profile = response.json()
    assert set(profile) == {
        "id",
        "email",
        "pending_email",
        "username",
        "full_name",
        "roles",
        "is_active",
        "email_verified",
        "created_at",
        "updated_at",
    }
    assert uuid.UUID(profile["id"]) == person.id
    assert profile["email"] == person.email
    assert profile["pending_email"] is None
    assert profile["username"] is None
    assert profile["full_name"] == "Test"
    assert profile["roles"] == ["member"]
    assert profile["is_active"] is True
    assert profile["email_verified"] is False
    assert moment(profile["created_at"]) <= moment(profile["updated_at"])


async def test_a_member_changes_their_name_and_username(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    before = (await client.get(ME, headers=person.headers)).json()
    username = f"Ada_{uuid.uuid4().hex[:8]}"

    response = await client.patch(
        ME, json={"full_name": "  Ada Lovelace ", "username": username}, headers=person.headers
    )

    assert response.status_code == 200
    after = (await client.get(ME, headers=person.headers)).json()
    assert after == response.json()
    assert after["full_name"] == "Ada Lovelace"
    assert after["username"] == username.lower()
    assert after["email"] == person.email
    assert after["created_at"] == before["created_at"]
    assert moment(after["updated_at"]) > moment(before["updated_at"])


async def test_a_member_can_clear_their_username(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    username = f"gone-{uuid.uuid4().hex[:8]}"
    await client.patch(ME, json={"username": username}, headers=person.headers)

    response = await client.patch(ME, json={"username": None}, headers=person.headers)

    assert response.status_code == 200
    assert response.json()["username"] is None


async def test_a_username_someone_else_has_is_refused_whatever_its_case(
    client: httpx.AsyncClient,
) -> None:
    first, second = await sign_up(client), await sign_up(client)
    username = f"taken-{uuid.uuid4().hex[:8]}"
    assert (await client.patch(ME, json={"username": username}, headers=first.headers)).is_success

    response = await client.patch(ME, json={"username": username.upper()}, headers=second.headers)

    assert_problem(response, 409, "USERNAME_TAKEN")
    assert (await client.get(ME, headers=second.headers)).json()["username"] is None


async def test_an_email_someone_else_has_is_refused_whatever_its_case(
    client: httpx.AsyncClient,
) -> None:
    first, second = await sign_up(client), await sign_up(client)

    response = await client.patch(
        ME,
        json={"email": first.email.upper(), "current_password": PASSWORD},
        headers=second.headers,
    )

    assert_problem(response, 409, "EMAIL_TAKEN")
    assert (await client.get(ME, headers=second.headers)).json()["email"] == second.email


async def test_registering_an_email_that_differs_only_in_case_makes_no_second_account(
    client: httpx.AsyncClient,
) -> None:
    taken = await sign_up(client)
    local, domain = taken.email.split("@")

    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{local.upper()}@{domain.title()}", "password": "An0ther-secret-9"},
    )

    assert response.status_code == 202  # as for a new address: the owner is told by mail
    login = await client.post(
        "/api/v1/auth/login", json={"email": taken.email, "password": "An0ther-secret-9"}
    )
    assert_problem(login, 401, "INVALID_CREDENTIALS")


async def test_an_email_is_kept_in_lower_case(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    new_email = unique_email("Mixed").replace("example.com", "Example.COM")

    response = await client.patch(
        ME, json={"email": new_email, "current_password": PASSWORD}, headers=person.headers
    )

    assert response.status_code == 200
    assert response.json()["pending_email"] == new_email.lower()


async def test_an_invalid_email_is_refused(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    registering = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": PASSWORD}
    )
    changing = await client.patch(ME, json={"email": "not-an-email"}, headers=person.headers)

    assert bad_fields(registering) == {"email"}
    assert bad_fields(changing) == {"email"}
    assert (await client.get(ME, headers=person.headers)).json()["email"] == person.email


async def test_an_invalid_username_is_refused(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    for username in ("a b c", "ab", "_leading", "x" * 33):
        response = await client.patch(ME, json={"username": username}, headers=person.headers)
        assert bad_fields(response) == {"username"}, username


async def test_a_new_email_replaces_the_old_one_once_verified(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    assert (await verify(client, app, person.email)).status_code == 204
    new_email = unique_email("moved")

    changed = await client.patch(
        ME, json={"email": new_email, "current_password": PASSWORD}, headers=person.headers
    )

    assert changed.status_code == 200
    assert changed.json()["email"] == person.email
    assert changed.json()["pending_email"] == new_email
    assert changed.json()["email_verified"] is True
    assert (await verify(client, app, new_email)).status_code == 204
    me = (await client.get(ME, headers=person.headers)).json()
    assert me["email"] == new_email
    assert me["pending_email"] is None
    assert me["email_verified"] is True


async def test_a_member_signs_in_with_the_old_email_until_the_new_one_is_verified(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    new_email = unique_email("moved")
    await client.patch(
        ME, json={"email": new_email, "current_password": PASSWORD}, headers=person.headers
    )

    assert (await login(client, person.email)).status_code == 200
    assert_problem(await login(client, new_email), 401, "INVALID_CREDENTIALS")
    assert (await verify(client, app, new_email)).status_code == 204
    assert_problem(await login(client, person.email), 401, "INVALID_CREDENTIALS")
    assert (await login(client, new_email)).status_code == 200


async def test_a_link_for_the_old_email_no_longer_verifies_once_it_is_replaced(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    old_link = token_in(await mail_to(app, person.email, "Confirm"))
    new_email = unique_email("moved")
    await client.patch(
        ME, json={"email": new_email, "current_password": PASSWORD}, headers=person.headers
    )
    assert (await verify(client, app, new_email)).status_code == 204

    response = await client.post("/api/v1/auth/verify-email", json={"token": old_link})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")
    assert (await client.get(ME, headers=person.headers)).json()["email"] == new_email


async def test_setting_the_same_email_again_keeps_it_verified(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    await verify(client, app, person.email)

    response = await client.patch(ME, json={"email": person.email}, headers=person.headers)

    assert response.status_code == 200
    assert response.json()["email_verified"] is True


@pytest.mark.parametrize("field", ["full_name", "email"])
async def test_a_required_field_cannot_be_set_to_null(
    client: httpx.AsyncClient, field: str
) -> None:
    person = await sign_up(client)
    before = (await client.get(ME, headers=person.headers)).json()

    response = await client.patch(ME, json={field: None}, headers=person.headers)

    assert bad_fields(response) == {field}
    assert (await client.get(ME, headers=person.headers)).json()[field] == before[field]
