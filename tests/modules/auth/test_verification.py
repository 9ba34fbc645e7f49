"""Confirming an email address with the token from the registration mail."""

import asyncio

import httpx
from fastapi import FastAPI

from tests.modules.auth.expect import assert_problem
from tests.people import Person, mail_to, outbox, sign_up, token_in

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"


async def email_verified(client: httpx.AsyncClient, person: Person) -> bool:
    me = await client.get("/api/v1/users/me", headers=person.headers)
    assert me.status_code == 200, me.text
    verified: bool = me.json()["email_verified"]
    return verified


def confirmations_to(app: FastAPI, email: str) -> int:
    return len([m for m in outbox(app) if m.to == email and "Confirm" in m.subject])


async def test_the_mailed_token_confirms_the_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    assert await email_verified(client, person) is False
    token = token_in(await mail_to(app, person.email, "Confirm"))

    response = await client.post(VERIFY, json={"token": token})

    assert response.status_code == 204, response.text
    assert await email_verified(client, person) is True


async def test_a_verification_token_works_only_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    token = token_in(await mail_to(app, person.email, "Confirm"))
    await client.post(VERIFY, json={"token": token})

    again = await client.post(VERIFY, json={"token": token})

    assert_problem(again, 422, "INVALID_ACTION_TOKEN")


async def test_a_made_up_verification_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(VERIFY, json={"token": "made-up-token"})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")


async def test_a_reset_token_cannot_confirm_an_email(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    await client.post("/api/v1/auth/password/forgot", json={"email": person.email})
    reset = token_in(await mail_to(app, person.email, "Reset"))

    response = await client.post(VERIFY, json={"token": reset})

    assert_problem(response, 422, "INVALID_ACTION_TOKEN")
    assert await email_verified(client, person) is False


async def test_a_new_link_can_be_asked_for_and_works(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    first = token_in(await mail_to(app, person.email, "Confirm"))

    response = await client.post(RESEND, headers=person.headers)

    assert response.status_code == 202, response.text
    for _ in range(100):
        if confirmations_to(app, person.email) == 2:
            break
        await asyncio.sleep(0.01)
    second = token_in(await mail_to(app, person.email, "Confirm"))
    assert second != first
    assert (await client.post(VERIFY, json={"token": second})).status_code == 204
    assert await email_verified(client, person) is True


async def test_no_new_link_is_sent_once_the_email_is_confirmed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    token = token_in(await mail_to(app, person.email, "Confirm"))
    await client.post(VERIFY, json={"token": token})

    response = await client.post(RESEND, headers=person.headers)

    assert response.status_code == 202, response.text
    await asyncio.sleep(0.1)
    assert confirmations_to(app, person.email) == 1


async def test_asking_for_a_new_link_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(RESEND), 401, "NOT_AUTHENTICATED")
