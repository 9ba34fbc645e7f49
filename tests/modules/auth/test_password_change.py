import httpx

from tests.modules.auth.expect import assert_problem, bearer, refused_within, status_of_me
from tests.people import PASSWORD, sign_in, sign_up

CHANGE = "/api/v1/auth/password"
NEW_PASSWORD = "N3w-and-better-one"


async def test_changing_the_password_needs_the_current_one(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(
        CHANGE,
        json={"current_password": "Not-the-0ne-I-have", "new_password": NEW_PASSWORD},
        headers=person.headers,
    )

    assert_problem(response, 403, "WRONG_PASSWORD")
    await sign_in(client, person.email, PASSWORD)
    assert await status_of_me(client, person.access_token) == 200


async def test_a_new_password_replaces_the_old_one(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(
        CHANGE,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )

    assert response.status_code == 204, response.text
    old = await client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD}
    )
    assert_problem(old, 401, "INVALID_CREDENTIALS")
    await sign_in(client, person.email, NEW_PASSWORD)


async def test_changing_the_password_ends_every_session(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    elsewhere = await sign_in(client, person.email)

    response = await client.post(
        CHANGE,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )

    assert response.status_code == 204, response.text
    for session in (person, elsewhere):
        await refused_within(client, session.access_token)
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session.refresh_token}
        )
        assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")
    fresh = await sign_in(client, person.email, NEW_PASSWORD)
    sessions = await client.get("/api/v1/auth/sessions", headers=bearer(fresh.access_token))
    assert [s["id"] for s in sessions.json()] == [str(fresh.session_id)]


async def test_the_new_password_must_meet_the_policy(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(
        CHANGE,
        json={"current_password": PASSWORD, "new_password": "password1"},
        headers=person.headers,
    )

    assert_problem(response, 422, "PASSWORD_TOO_WEAK")
    await sign_in(client, person.email, PASSWORD)


async def test_changing_the_password_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert_problem(response, 401, "NOT_AUTHENTICATED")
