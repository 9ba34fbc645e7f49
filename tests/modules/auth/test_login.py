import httpx
from fastapi import FastAPI

from tests.modules.auth.expect import assert_problem, bearer, status_of_me
from tests.modules.auth.tokens import claims_of, header_of
from tests.people import PASSWORD, admin, sign_up

LOGIN = "/api/v1/auth/login"


async def test_signing_in_with_json_gives_a_token_pair(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(LOGIN, json={"email": person.email, "password": PASSWORD})

    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 30 * 60
    assert pair["refresh_expires_in"] == 7 * 24 * 3600
    assert pair["refresh_token"] != pair["access_token"]
    assert await status_of_me(client, pair["access_token"]) == 200


async def test_signing_in_with_the_oauth2_password_form_works(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(LOGIN, data={"username": person.email, "password": PASSWORD})

    assert response.status_code == 200, response.text
    assert await status_of_me(client, response.json()["access_token"]) == 200


async def test_the_form_as_swagger_ui_sends_it_works(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(
        LOGIN,
        data={
            "grant_type": "password",
            "username": person.email,
            "password": PASSWORD,
            "scope": "",
        },
    )

    assert response.status_code == 200, response.text


async def test_the_form_with_a_wrong_password_is_refused(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(LOGIN, data={"username": person.email, "password": "Wr0ng-one"})

    assert_problem(response, 401, "INVALID_CREDENTIALS")


async def test_the_email_is_matched_whatever_its_case(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(LOGIN, json={"email": person.email.upper(), "password": PASSWORD})

    assert response.status_code == 200, response.text


async def test_a_wrong_password_is_refused_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)

    response = await client.post(LOGIN, json={"email": person.email, "password": "Wr0ng-one"})

    assert_problem(response, 401, "INVALID_CREDENTIALS")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_login_without_a_password_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(LOGIN, data={"username": "someone@example.com"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {error["field"] for error in body["errors"]} == {"body.password"}


async def test_a_login_body_that_is_not_json_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        LOGIN, content=b"{not json", headers={"content-type": "application/json"}
    )

    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_a_login_body_nested_too_deep_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000

    response = await client.post(
        LOGIN, content=nested, headers={"content-type": "application/json"}
    )

    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_a_deactivated_account_cannot_sign_in(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    person = await sign_up(client)
    boss = await admin(app, client)
    deactivated = await client.post(f"/api/v1/users/{person.id}/deactivate", headers=boss.headers)
    assert deactivated.status_code == 200, deactivated.text

    response = await client.post(LOGIN, json={"email": person.email, "password": PASSWORD})

    assert_problem(response, 403, "ACCOUNT_DISABLED")


async def test_the_access_token_names_its_user_session_and_roles(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)

    claims = claims_of(person.access_token)

    assert header_of(person.access_token)["kid"] == "hs256"
    assert claims["sub"] == str(person.id)
    assert claims["sid"] == str(person.session_id)
    assert claims["roles"] == ["member"]
    assert claims["type"] == "access"
    assert claims["iss"] == "aibos"
    assert claims["aud"] == "aibos-api"
    assert claims["exp"] - claims["nbf"] == 30 * 60
    me = await client.get("/api/v1/users/me", headers=bearer(person.access_token))
    assert me.json()["roles"] == ["member"]
