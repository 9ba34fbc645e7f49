import httpx
import pytest

from tests.modules.auth.expect import assert_problem, field_errors
from tests.people import sign_in, unique_email

REGISTER = "/api/v1/auth/register"


async def register(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(REGISTER, json={"email": email, "password": password})


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("ab1cd2e", id="seven-characters"),
        pytest.param("correct-horse-battery", id="no-digit"),
        pytest.param("4815-1623-42", id="no-letter"),
        pytest.param("password1", id="common"),
        pytest.param("PASSWORD1", id="common-in-capitals"),
    ],
)
async def test_a_weak_password_is_refused(client: httpx.AsyncClient, password: str) -> None:
    email = unique_email()

    response = await register(client, email, password)

    assert_problem(response, 422, "PASSWORD_TOO_WEAK")
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert_problem(login, 401, "INVALID_CREDENTIALS")


async def test_a_password_equal_to_the_email_is_refused(client: httpx.AsyncClient) -> None:
    email = unique_email("mail2me")  # letters and digits, long enough

    response = await register(client, email, email.upper())

    assert_problem(response, 422, "PASSWORD_TOO_WEAK")


@pytest.mark.parametrize("length", [8, 64, 200, 256])
async def test_a_long_password_is_accepted(client: httpx.AsyncClient, length: int) -> None:
    email = unique_email()
    password = ("Zq7-" * 64)[:length]

    response = await register(client, email, password)

    assert response.status_code == 202, response.text
    await sign_in(client, email, password)


async def test_a_password_over_256_characters_is_refused(client: httpx.AsyncClient) -> None:
    response = await register(client, unique_email(), ("Zq7-" * 65)[:257])

    assert field_errors(response) == {"body.password"}
