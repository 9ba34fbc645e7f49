import statistics
import time

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ClientFactory
from tests.modules.auth.expect import assert_problem, field_errors
from tests.people import PASSWORD, mail_to, outbox, sign_in, sign_up, unique_email

REGISTER = "/api/v1/auth/register"
OTHER_PASSWORD = "An0ther-secret-9"
ROUNDS = 5


async def test_anyone_can_sign_up_and_then_sign_in(client: httpx.AsyncClient) -> None:
    email = unique_email()

    response = await client.post(
        REGISTER, json={"email": email, "password": PASSWORD, "full_name": "Ada Lovelace"}
    )

    assert response.status_code == 202, response.text
    assert set(response.json()) == {"detail"}
    person = await sign_in(client, email)
    me = (await client.get("/api/v1/users/me", headers=person.headers)).json()
    assert me["email"] == email
    assert me["full_name"] == "Ada Lovelace"
    assert me["email_verified"] is False


async def test_a_new_account_is_sent_a_verification_mail(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email = unique_email()

    await client.post(REGISTER, json={"email": email, "password": PASSWORD})

    mail = await mail_to(app, email, "Confirm")
    assert "verify-email?token=" in mail.body


async def test_the_email_is_kept_in_lower_case(client: httpx.AsyncClient) -> None:
    email = unique_email("MixedCase").replace("example.com", "Example.COM")

    response = await client.post(REGISTER, json={"email": email, "password": PASSWORD})

    assert response.status_code == 202, response.text
    person = await sign_in(client, email.lower())
    me = (await client.get("/api/v1/users/me", headers=person.headers)).json()
    assert me["email"] == email.lower()


async def test_an_email_can_be_registered_only_once(client: httpx.AsyncClient) -> None:
    email = unique_email()
    first = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert first.status_code == 202, first.text

    again = await client.post(REGISTER, json={"email": email.upper(), "password": OTHER_PASSWORD})

    assert again.status_code == 202, again.text
    await sign_in(client, email)
    taken_over = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": OTHER_PASSWORD}
    )
    assert_problem(taken_over, 401, "INVALID_CREDENTIALS")


def comparable(response: httpx.Response) -> tuple[int, str, dict[str, object]]:
    return response.status_code, response.headers["content-type"], response.json()


async def test_signing_up_with_a_taken_email_answers_as_a_new_one_does(
    client: httpx.AsyncClient,
) -> None:
    taken = await sign_up(client)

    fresh = await client.post(REGISTER, json={"email": unique_email(), "password": PASSWORD})
    again = await client.post(REGISTER, json={"email": taken.email, "password": OTHER_PASSWORD})

    assert comparable(again) == comparable(fresh)
    assert fresh.status_code == 202


async def test_the_owner_of_a_taken_email_is_told_someone_tried_to_sign_up(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    taken = await sign_up(client)

    await client.post(REGISTER, json={"email": taken.email, "password": OTHER_PASSWORD})

    mail = await mail_to(app, taken.email, "tried to sign up")
    assert "already has one" in mail.body
    assert OTHER_PASSWORD not in mail.body
    confirmations = [m for m in outbox(app) if m.to == taken.email and "Confirm" in m.subject]
    assert len(confirmations) == 1  # the one the first sign-up sent


async def test_a_taken_email_is_not_answered_much_faster_than_a_new_one(
    client: httpx.AsyncClient,
) -> None:
    taken = await sign_up(client)

    async def timed(email: str) -> float:
        start = time.perf_counter()
        response = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
        assert response.status_code == 202
        return time.perf_counter() - start

    await timed(unique_email())  # warm-up
    fresh, again = [], []
    for _ in range(ROUNDS):
        fresh.append(await timed(unique_email()))
        again.append(await timed(taken.email))

    new_one, known = statistics.median(fresh), statistics.median(again)
    assert known > 0.5 * new_one, f"taken {known * 1000:.1f} ms, new {new_one * 1000:.1f} ms"
    assert new_one > 0.5 * known, f"taken {known * 1000:.1f} ms, new {new_one * 1000:.1f} ms"


async def test_a_malformed_email_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": "not-an-email", "password": PASSWORD})

    assert field_errors(response) == {"body.email"}


async def test_sign_up_is_refused_while_registration_is_closed(
    make_client: ClientFactory,
) -> None:
    email = unique_email()
    async with make_client(registration_enabled=False) as closed:
        response = await closed.post(REGISTER, json={"email": email, "password": PASSWORD})
        login = await closed.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})

    assert_problem(response, 403, "REGISTRATION_CLOSED")
    assert_problem(login, 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("roles", ["admin"]),
        ("is_active", True),
        ("email_verified", True),
        ("id", "00000000-0000-0000-0000-000000000001"),
    ],
)
async def test_sign_up_refuses_fields_a_user_may_not_set(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    email = unique_email()

    response = await client.post(
        REGISTER, json={"email": email, "password": PASSWORD, field: value}
    )

    assert field_errors(response) == {f"body.{field}"}
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert_problem(login, 401, "INVALID_CREDENTIALS")
