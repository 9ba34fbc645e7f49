"""Forgotten passwords: a mailed, single-use reset token."""

import asyncio

import httpx
from fastapi import FastAPI

from tests.modules.auth.expect import assert_problem, bearer, refused_within
from tests.people import (
    PASSWORD,
    admin,
    mail_to,
    outbox,
    sign_in,
    sign_up,
    token_in,
    unique_email,
)

FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
NEW_PASSWORD = "Fr3sh-start-now"


async def reset_token(app: FastAPI, client: httpx.AsyncClient, email: str) -> str:
    response = await client.post(FORGOT, json={"email": email})
    assert response.status_code == 202, response.text
    return token_in(await mail_to(app, email, "Reset"))


async def test_asking_for_a_reset_answers_the_same_whether_or_not_the_account_exists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    nobody = unique_email("nobody")

    unknown = await client.post(FORGOT, json={"email": nobody})
    known = await client.post(FORGOT, json={"email": person.email})

    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    await mail_to(app, person.email, "Reset")
    await asyncio.sleep(0.05)
    assert [mail for mail in outbox(app) if mail.to == nobody] == []


async def test_a_reset_token_sets_a_new_password(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)

    response = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 204, response.text
    old = await client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD}
    )
    assert_problem(old, 401, "INVALID_CREDENTIALS")
    await sign_in(client, person.email, NEW_PASSWORD)


async def test_a_reset_ends_every_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)

    await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    await refused_within(client, person.access_token)
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}
    )
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")


async def test_a_sign_in_under_way_with_the_old_password_does_not_outlive_a_reset(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)
    old_password = {"email": person.email, "password": PASSWORD}
    signing_in = asyncio.create_task(client.post("/api/v1/auth/login", json=old_password))
    await asyncio.sleep(0.005)  # the sign-in is checking the old password: argon2 takes longer

    reset = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    assert reset.status_code == 204, reset.text
    response = await signing_in
    if response.status_code == 200:  # it finished first, so its session ended with the others
        await refused_within(client, response.json()["access_token"])
        refresh = {"refresh_token": response.json()["refresh_token"]}
        assert (await client.post("/api/v1/auth/refresh", json=refresh)).status_code == 401
    else:
        assert_problem(response, 401, "INVALID_CREDENTIALS")


async def test_a_reset_link_mailed_to_an_address_the_account_left_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)
    new_email = unique_email("moved")
    moved = await client.patch(
        "/api/v1/users/me",
        json={"email": new_email, "current_password": PASSWORD},
        headers=person.headers,
    )
    assert moved.status_code == 200, moved.text
    link = token_in(await mail_to(app, new_email, "Confirm"))
    confirmed = await client.post("/api/v1/auth/verify-email", json={"token": link})
    assert confirmed.status_code == 204, confirmed.text

    response = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")
    await sign_in(client, new_email, PASSWORD)  # the password is unchanged


async def test_a_reset_also_confirms_the_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)

    await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    fresh = await sign_in(client, person.email, NEW_PASSWORD)
    me = await client.get("/api/v1/users/me", headers=bearer(fresh.access_token))
    assert me.json()["email_verified"] is True


async def test_a_reset_token_works_only_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)
    first = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert first.status_code == 204, first.text

    again = await client.post(RESET, json={"token": token, "new_password": "An0ther-new-one"})

    assert_problem(again, 422, "INVALID_ACTION_TOKEN")
    await sign_in(client, person.email, NEW_PASSWORD)


async def test_a_made_up_reset_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        RESET, json={"token": "made-up-token", "new_password": NEW_PASSWORD}
    )

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")


async def test_a_weak_new_password_leaves_the_token_usable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    token = await reset_token(app, client, person.email)

    weak = await client.post(RESET, json={"token": token, "new_password": "password1"})

    assert_problem(weak, 422, "PASSWORD_TOO_WEAK")
    strong = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert strong.status_code == 204, strong.text


async def test_a_verification_token_cannot_reset_a_password(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    verification = token_in(await mail_to(app, person.email, "Confirm"))

    response = await client.post(RESET, json={"token": verification, "new_password": NEW_PASSWORD})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")
    await sign_in(client, person.email, PASSWORD)


async def test_a_deactivated_account_gets_no_reset_mail(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    boss = await admin(app, client)
    await client.post(f"/api/v1/users/{person.id}/deactivate", headers=boss.headers)

    response = await client.post(FORGOT, json={"email": person.email})

    assert response.status_code == 202
    await asyncio.sleep(0.1)
    assert [m for m in outbox(app) if m.to == person.email and "Reset" in m.subject] == []
