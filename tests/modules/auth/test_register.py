import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ClientFactory
from tests.modules.auth.expect import assert_problem, field_errors
from tests.people import PASSWORD, mail_to, sign_in, unique_email

REGISTER = "/api/v1/auth/register"


async def test_anyone_can_sign_up_and_then_sign_in(client: httpx.AsyncClient) -> None:
    email = unique_email()

    response = await client.post(
        REGISTER, json={"email": email, "password": PASSWORD, "full_name": "Ada Lovelace"}
    )

    assert response.status_code == 201, response.text
    account = response.json()
    assert account["email"] == email
    assert account["full_name"] == "Ada Lovelace"
    assert account["email_verified"] is False
    assert "password" not in response.text
    person = await sign_in(client, email)
    assert str(person.id) == account["id"]


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

    assert response.status_code == 201, response.text
    assert response.json()["email"] == email.lower()
    await sign_in(client, email.lower())


async def test_an_email_can_be_registered_only_once(client: httpx.AsyncClient) -> None:
    email = unique_email()
    first = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert first.status_code == 201, first.text

    again = await client.post(REGISTER, json={"email": email.upper(), "password": PASSWORD})

    assert_problem(again, 409, "EMAIL_TAKEN")


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
