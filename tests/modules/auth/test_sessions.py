import uuid
from typing import Any

import httpx

from tests.modules.auth.expect import assert_problem, bearer, status_of_me
from tests.people import PASSWORD, sign_in, sign_up

SESSIONS = "/api/v1/auth/sessions"


async def sign_in_from(client: httpx.AsyncClient, email: str, user_agent: str) -> dict[str, Any]:
    """Sign in from another device: the token pair."""
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


async def test_the_session_list_shows_each_sign_in_and_marks_the_current_one(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)
    phone = await sign_in_from(client, person.email, "PhoneBrowser/1.0")

    response = await client.get(SESSIONS, headers=bearer(phone["access_token"]))

    assert response.status_code == 200, response.text
    sessions = {session["id"]: session for session in response.json()}
    assert set(sessions) == {str(person.session_id), phone["session_id"]}
    assert [id_ for id_, session in sessions.items() if session["current"]] == [phone["session_id"]]
    assert sessions[phone["session_id"]]["user_agent"] == "PhoneBrowser/1.0"


async def test_the_session_list_holds_only_your_own_sessions(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    stranger = await sign_up(client)

    response = await client.get(SESSIONS, headers=person.headers)

    ids = {session["id"] for session in response.json()}
    assert str(person.session_id) in ids
    assert str(stranger.session_id) not in ids


async def test_ending_one_of_your_sessions_removes_it_from_the_list(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)
    elsewhere = await sign_in(client, person.email)

    response = await client.delete(f"{SESSIONS}/{elsewhere.session_id}", headers=person.headers)

    assert response.status_code == 204, response.text
    ids = {s["id"] for s in (await client.get(SESSIONS, headers=person.headers)).json()}
    assert str(elsewhere.session_id) not in ids
    assert str(person.session_id) in ids
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": elsewhere.refresh_token}
    )
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN")


async def test_someone_elses_session_cannot_be_ended(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    stranger = await sign_up(client)

    response = await client.delete(f"{SESSIONS}/{stranger.session_id}", headers=person.headers)

    assert_problem(response, 404, "SESSION_NOT_FOUND")
    assert await status_of_me(client, stranger.access_token) == 200
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": stranger.refresh_token}
    )
    assert refresh.status_code == 200, refresh.text


async def test_an_unknown_session_is_not_found(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=person.headers)

    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_the_sessions_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(SESSIONS), 401, "NOT_AUTHENTICATED")
    assert_problem(await client.delete(f"{SESSIONS}/{uuid.uuid4()}"), 401, "NOT_AUTHENTICATED")
