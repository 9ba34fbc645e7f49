import asyncio

import httpx

from tests.conftest import ClientFactory
from tests.modules.auth.expect import assert_problem, refused_within, status_of_me
from tests.modules.auth.tokens import claims_of
from tests.people import sign_in, sign_up

REFRESH = "/api/v1/auth/refresh"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_a_refresh_gives_a_new_pair_for_the_same_session(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await refresh(client, person.refresh_token)

    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["refresh_token"] != person.refresh_token
    assert pair["access_token"] != person.access_token
    assert pair["session_id"] == str(person.session_id)
    assert claims_of(pair["access_token"])["sid"] == str(person.session_id)
    assert await status_of_me(client, pair["access_token"]) == 200


async def test_a_refresh_token_works_only_once(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    first = await refresh(client, person.refresh_token)
    assert first.status_code == 200, first.text

    again = await refresh(client, person.refresh_token)

    assert again.status_code == 401


async def test_the_rotated_token_keeps_working_down_the_chain(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)
    token = person.refresh_token

    for _ in range(3):
        response = await refresh(client, token)
        assert response.status_code == 200, response.text
        token = response.json()["refresh_token"]

    assert await status_of_me(client, response.json()["access_token"]) == 200


async def test_reusing_a_rotated_token_ends_the_whole_family(make_client: ClientFactory) -> None:
    async with make_client(refresh_race_seconds=0) as client:
        person = await sign_up(client)
        rotated = await refresh(client, person.refresh_token)
        assert rotated.status_code == 200, rotated.text
        newest = rotated.json()

        reuse = await refresh(client, person.refresh_token)

        assert_problem(reuse, 401, "REFRESH_TOKEN_REUSED")
        assert_problem(await refresh(client, newest["refresh_token"]), 401, "INVALID_REFRESH_TOKEN")
        await asyncio.gather(
            refused_within(client, newest["access_token"]),
            refused_within(client, person.access_token),
        )


async def test_reuse_ends_only_that_family(make_client: ClientFactory) -> None:
    async with make_client(refresh_race_seconds=0) as client:
        person = await sign_up(client)
        elsewhere = await sign_in(client, person.email)
        await refresh(client, person.refresh_token)

        reuse = await refresh(client, person.refresh_token)

        assert_problem(reuse, 401, "REFRESH_TOKEN_REUSED")
        await refused_within(client, person.access_token)
        assert await status_of_me(client, elsewhere.access_token) == 200
        assert (await refresh(client, elsewhere.refresh_token)).status_code == 200


async def test_a_rotated_token_back_after_the_race_window_ends_the_family(
    make_client: ClientFactory,
) -> None:
    async with make_client(refresh_race_seconds=0.3) as client:
        person = await sign_up(client)
        rotated = await refresh(client, person.refresh_token)
        assert rotated.status_code == 200, rotated.text
        await asyncio.sleep(0.4)

        reuse = await refresh(client, person.refresh_token)

        assert_problem(reuse, 401, "REFRESH_TOKEN_REUSED")
        newest = rotated.json()["refresh_token"]
        assert_problem(await refresh(client, newest), 401, "INVALID_REFRESH_TOKEN")


async def test_of_simultaneous_refreshes_with_one_token_exactly_one_succeeds(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)

    responses = await asyncio.gather(*(refresh(client, person.refresh_token) for _ in range(8)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 7, statuses
    for response in responses:
        if response.status_code == 401:
            assert_problem(response, 401, "REFRESH_TOKEN_RACED")
    winner = next(response.json() for response in responses if response.status_code == 200)
    assert await status_of_me(client, winner["access_token"]) == 200
    assert await status_of_me(client, person.access_token) == 200
    assert (await refresh(client, winner["refresh_token"])).status_code == 200


async def test_an_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await refresh(client, "never-issued")

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await refresh(client, person.access_token)

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")
    assert (await refresh(client, person.refresh_token)).status_code == 200


async def test_a_refresh_request_with_extra_fields_is_refused(client: httpx.AsyncClient) -> None:
    person = await sign_up(client)

    response = await client.post(
        REFRESH, json={"refresh_token": person.refresh_token, "session_id": "x"}
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {error["field"] for error in body["errors"]} == {"body.session_id"}
