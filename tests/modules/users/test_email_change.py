"""Changing an email: a stolen access token is not enough to move an account to another box."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from tests.conftest import ClientFactory
from tests.modules.users.checks import USERS, Cast, assert_problem, login
from tests.people import PASSWORD, Person, mail_to, outbox, sign_up, token_in, unique_email

ME = f"{USERS}/me"
FORGOT = "/api/v1/auth/password/forgot"
VERIFY = "/api/v1/auth/verify-email"


async def change(
    client: httpx.AsyncClient, person: Person, email: str, password: str | None = PASSWORD
) -> httpx.Response:
    body = {"email": email} if password is None else {"email": email, "current_password": password}
    return await client.patch(ME, json=body, headers=person.headers)


async def profile(client: httpx.AsyncClient, person: Person) -> dict[str, object]:
    found: dict[str, object] = (await client.get(ME, headers=person.headers)).json()
    return found


async def moving(app: FastAPI, client: httpx.AsyncClient, label: str) -> tuple[Person, str, str]:
    """Someone who asked to move to a new address: them, the address and its link's token."""
    person = await sign_up(client)
    new_email = unique_email(label)
    await change(client, person, new_email)
    return person, new_email, token_in(await mail_to(app, new_email, "Confirm"))


def mails_to(app: FastAPI, email: str) -> list[str]:
    return [mail.subject for mail in outbox(app) if mail.to == email]


async def test_a_new_email_without_the_current_password_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    thief = unique_email("thief")

    response = await change(client, person, thief, password=None)

    assert_problem(response, 422, "CURRENT_PASSWORD_REQUIRED")
    me = await profile(client, person)
    assert (me["email"], me["pending_email"]) == (person.email, None)
    assert mails_to(app, thief) == []


async def test_a_new_email_with_a_wrong_password_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    thief = unique_email("thief")

    response = await change(client, person, thief, password="Wr0ng-guess-1")

    assert_problem(response, 403, "WRONG_PASSWORD")
    assert (await profile(client, person))["pending_email"] is None
    assert mails_to(app, thief) == []


async def test_guesses_at_the_password_count_as_sign_in_attempts(
    make_client: ClientFactory,
) -> None:
    limits = {
        "rate_limit_login_per_account": "3/60",
        "cache_namespace": f"aibos-test-limits-{uuid.uuid4().hex[:8]}",
    }
    async with make_client(**limits) as tight:
        person = await sign_up(tight)  # its sign-in gave its attempt back
        for _ in range(3):
            guess = await change(tight, person, unique_email("thief"), password="Wr0ng-guess-1")
            assert_problem(guess, 403, "WRONG_PASSWORD")

        blocked = await change(tight, person, unique_email("thief"), password="Wr0ng-guess-1")
        owner = await login(tight, person.email)

    assert_problem(blocked, 429, "RATE_LIMITED")
    assert_problem(owner, 429, "RATE_LIMITED")


async def test_the_old_address_is_told_and_the_new_one_gets_a_link(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    new_email = unique_email("moved")

    response = await change(client, person, new_email)

    assert response.status_code == 200, response.text
    notice = await mail_to(app, person.email, "about to change")
    assert new_email in notice.body
    assert "Token" not in notice.body
    link = await mail_to(app, new_email, "Confirm")
    assert "verify-email?token=" in link.body


async def test_until_verified_resets_go_to_the_old_address_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    new_email = unique_email("moved")
    await change(client, person, new_email)

    to_new = await client.post(FORGOT, json={"email": new_email})
    to_old = await client.post(FORGOT, json={"email": person.email})

    assert to_new.status_code == to_old.status_code == 202
    await mail_to(app, person.email, "Reset")
    assert not [subject for subject in mails_to(app, new_email) if "Reset" in subject]


async def test_once_verified_the_new_address_signs_in_and_gets_resets(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person, new_email, token = await moving(app, client, "moved")

    verified = await client.post(VERIFY, json={"token": token})

    assert verified.status_code == 204, verified.text
    assert (await login(client, new_email)).status_code == 200
    assert_problem(await login(client, person.email), 401, "INVALID_CREDENTIALS")
    await client.post(FORGOT, json={"email": new_email})
    await mail_to(app, new_email, "Reset")


async def test_asking_for_the_address_in_use_cancels_a_pending_change(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person, _, token = await moving(app, client, "moved")

    back = await change(client, person, person.email, password=None)

    assert back.status_code == 200, back.text
    assert back.json()["pending_email"] is None
    late = await client.post(VERIFY, json={"token": token})
    assert_problem(late, 422, "INVALID_ACTION_TOKEN")
    assert (await profile(client, person))["email"] == person.email


async def test_a_pending_address_taken_meanwhile_is_not_confirmed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person, contested, token = await moving(app, client, "contested")
    await sign_up(client, contested)

    response = await client.post(VERIFY, json={"token": token})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")
    assert (await profile(client, person))["email"] == person.email


async def test_an_administrator_changes_another_users_email_at_once_and_the_old_box_is_told(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)
    new_email = unique_email("corrected")

    response = await client.patch(
        f"{USERS}/{person.id}", json={"email": new_email}, headers=cast.admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == new_email
    assert response.json()["pending_email"] is None
    assert response.json()["email_verified"] is False
    notice = await mail_to(app, person.email, "was changed")
    assert new_email in notice.body
    await mail_to(app, new_email, "Confirm")
    assert (await login(client, new_email)).status_code == 200


async def test_an_administrator_changing_their_own_email_needs_their_password(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    new_email = unique_email("boss")
    url = f"{USERS}/{cast.admin.id}"

    patched = await client.patch(url, json={"email": new_email}, headers=cast.admin.headers)
    me = (await client.get(url, headers=cast.admin.headers)).json()
    replaced = await client.put(
        url,
        json={
            "email": new_email,
            "username": me["username"],
            "full_name": me["full_name"],
            "email_verified": True,
        },
        headers=cast.admin.headers,
    )

    assert_problem(patched, 422, "CURRENT_PASSWORD_REQUIRED")
    assert_problem(replaced, 422, "CURRENT_PASSWORD_REQUIRED")
    assert (await client.get(url, headers=cast.admin.headers)).json()["email"] == cast.admin.email
