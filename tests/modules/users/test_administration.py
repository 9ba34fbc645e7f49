"""What an administrator does to other people's profiles: create, read, replace, change."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.modules.users.checks import USERS, Cast, assert_problem, bad_fields, create, login
from tests.people import mail_to, sign_in, token_in, unique_email

NEW_PASSWORD = "Corr3ct-horse-battery"


async def test_a_created_user_is_invited_to_choose_a_password_then_signs_in(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    email = unique_email("invited")
    username = f"inv-{uuid.uuid4().hex[:8]}"

    response = await client.post(
        USERS,
        json={
            "email": email.upper(),
            "full_name": "Invited Person",
            "username": username,
            "roles": ["accountant"],
        },
        headers=cast.admin.headers,
    )

    assert response.status_code == 201
    user = response.json()
    assert user["email"] == email
    assert user["username"] == username
    assert user["full_name"] == "Invited Person"
    assert user["roles"] == ["accountant"]
    assert user["is_active"] is True
    assert user["email_verified"] is False
    assert_problem(await login(client, email), 401, "INVALID_CREDENTIALS")

    invitation = await mail_to(app, email, "account")
    chosen = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token_in(invitation), "new_password": NEW_PASSWORD},
    )

    assert chosen.status_code == 204
    person = await sign_in(client, email, NEW_PASSWORD)
    me = (await client.get(f"{USERS}/me", headers=person.headers)).json()
    assert me["id"] == user["id"]
    assert me["roles"] == ["accountant"]
    assert me["email_verified"] is True


async def test_a_created_user_is_a_member_unless_told_otherwise(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await create(client, cast.admin)

    assert user["roles"] == ["member"]


async def test_creating_a_user_with_a_taken_email_or_username_is_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    username = f"dup-{uuid.uuid4().hex[:8]}"
    first = await create(client, cast.admin, username=username)

    same_email = await client.post(
        USERS, json={"email": first["email"].upper()}, headers=cast.admin.headers
    )
    same_username = await client.post(
        USERS,
        json={"email": unique_email("other"), "username": username.upper()},
        headers=cast.admin.headers,
    )

    assert_problem(same_email, 409, "EMAIL_TAKEN")
    assert_problem(same_username, 409, "USERNAME_TAKEN")


async def test_creating_a_user_with_an_unknown_role_creates_nobody(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    email = unique_email("norole")

    response = await client.post(
        USERS, json={"email": email, "roles": ["member", "wizard"]}, headers=cast.admin.headers
    )

    body = assert_problem(response, 422, "UNKNOWN_ROLE")
    assert "wizard" in body["detail"]
    found = await client.get(USERS, params={"q": email}, headers=cast.admin.headers)
    assert found.json()["count"] == 0


async def test_creating_a_user_needs_a_valid_email(client: httpx.AsyncClient, cast: Cast) -> None:
    missing = await client.post(USERS, json={"full_name": "Nobody"}, headers=cast.admin.headers)
    invalid = await client.post(USERS, json={"email": "not-an-email"}, headers=cast.admin.headers)

    assert bad_fields(missing) == {"email"}
    assert bad_fields(invalid) == {"email"}


async def test_an_admin_reads_anyone_by_id(client: httpx.AsyncClient, cast: Cast) -> None:
    user = await create(client, cast.admin)

    response = await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)

    assert response.status_code == 200
    assert response.json() == user


async def test_a_malformed_id_is_not_found(client: httpx.AsyncClient, cast: Cast) -> None:
    response = await client.get(f"{USERS}/not-a-uuid", headers=cast.admin.headers)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"full_name": "Ghost"}),
        (
            "PUT",
            "",
            {
                "email": "ghost@example.com",
                "username": None,
                "full_name": "G",
                "email_verified": False,
            },
        ),
        ("PUT", "/roles", {"roles": ["member"]}),
        ("POST", "/deactivate", None),
        ("POST", "/reactivate", None),
        ("DELETE", "", None),
    ],
)
async def test_an_unknown_user_is_a_404(
    client: httpx.AsyncClient, cast: Cast, method: str, suffix: str, body: Any
) -> None:
    response = await client.request(
        method, f"{USERS}/{uuid.uuid4()}{suffix}", json=body, headers=cast.admin.headers
    )

    assert_problem(response, 404, "USER_NOT_FOUND")


async def test_put_replaces_every_profile_field(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await create(client, cast.admin, username=f"old-{uuid.uuid4().hex[:8]}")
    new_email = unique_email("replaced")
    replacement = {
        "email": new_email,
        "username": None,
        "full_name": "Replaced Name",
        "email_verified": True,
    }

    response = await client.put(
        f"{USERS}/{user['id']}", json=replacement, headers=cast.admin.headers
    )

    assert response.status_code == 200
    replaced = response.json()
    assert {key: replaced[key] for key in replacement} == replacement
    assert replaced["roles"] == user["roles"]
    assert replaced["created_at"] == user["created_at"]
    assert (await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)).json() == (
        replaced
    )
    await mail_to(app, new_email, "Confirm")


async def test_put_needs_every_profile_field(client: httpx.AsyncClient, cast: Cast) -> None:
    user = await create(client, cast.admin)

    response = await client.put(
        f"{USERS}/{user['id']}", json={"full_name": "Only This"}, headers=cast.admin.headers
    )

    assert bad_fields(response) == {"email", "username", "email_verified"}
    assert (await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)).json() == user


async def test_patch_changes_only_the_fields_given(client: httpx.AsyncClient, cast: Cast) -> None:
    user = await create(client, cast.admin)

    response = await client.patch(
        f"{USERS}/{user['id']}",
        json={"full_name": "Patched", "email_verified": True},
        headers=cast.admin.headers,
    )

    assert response.status_code == 200
    patched = response.json()
    assert patched["full_name"] == "Patched"
    assert patched["email_verified"] is True
    assert patched["email"] == user["email"]
    assert patched["roles"] == user["roles"]


async def test_an_admin_changing_someones_email_sends_them_a_verification(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await create(client, cast.admin)
    await client.patch(
        f"{USERS}/{user['id']}", json={"email_verified": True}, headers=cast.admin.headers
    )
    new_email = unique_email("renamed")

    response = await client.patch(
        f"{USERS}/{user['id']}", json={"email": new_email}, headers=cast.admin.headers
    )

    assert response.json()["email"] == new_email
    assert response.json()["email_verified"] is False
    token = token_in(await mail_to(app, new_email, "Confirm"))
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).is_success
    again = await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)
    assert again.json()["email_verified"] is True
