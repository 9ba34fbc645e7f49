"""Deactivating, reactivating and deleting an account, and what the person notices."""

import asyncio

import httpx

from tests.modules.users.checks import USERS, Cast, assert_problem, create, login, refused_within
from tests.people import sign_in, sign_up


async def test_a_deactivated_user_cannot_sign_in_until_reactivated(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)

    deactivated = await client.post(f"{USERS}/{person.id}/deactivate", headers=cast.admin.headers)

    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    assert_problem(await login(client, person.email), 403, "ACCOUNT_DISABLED")
    assert_problem(await login(client, person.email, "Wr0ng-password!"), 401, "INVALID_CREDENTIALS")
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}
    )
    assert refreshed.status_code == 401

    reactivated = await client.post(f"{USERS}/{person.id}/reactivate", headers=cast.admin.headers)

    assert reactivated.status_code == 200
    assert reactivated.json()["is_active"] is True
    assert (await login(client, person.email)).status_code == 200


async def test_a_sign_in_under_way_when_the_account_is_deactivated_gets_no_working_token(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)
    signing_in = asyncio.create_task(login(client, person.email))
    await asyncio.sleep(0.005)  # the sign-in is checking the password: argon2 takes longer

    deactivated = await client.post(f"{USERS}/{person.id}/deactivate", headers=cast.admin.headers)

    assert deactivated.status_code == 200
    response = await signing_in
    if response.status_code == 200:  # it finished first, so its session ended with the others
        token = response.json()["access_token"]
        me = await client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
    else:
        assert_problem(response, 403, "ACCOUNT_DISABLED")


async def test_a_deleted_user_is_gone(client: httpx.AsyncClient, cast: Cast) -> None:
    person = await sign_up(client)

    response = await client.delete(f"{USERS}/{person.id}", headers=cast.admin.headers)

    assert response.status_code == 204
    assert response.content == b""
    gone = await client.get(f"{USERS}/{person.id}", headers=cast.admin.headers)
    assert_problem(gone, 404, "USER_NOT_FOUND")
    assert_problem(await login(client, person.email), 401, "INVALID_CREDENTIALS")
    assert await refused_within(client, person)
    again = await client.delete(f"{USERS}/{person.id}", headers=cast.admin.headers)
    assert_problem(again, 404, "USER_NOT_FOUND")


async def test_a_deleted_users_email_can_be_used_again(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await create(client, cast.admin)
    await client.delete(f"{USERS}/{user['id']}", headers=cast.admin.headers)

    response = await client.post(USERS, json={"email": user["email"]}, headers=cast.admin.headers)

    assert response.status_code == 201
    assert response.json()["id"] != user["id"]


async def test_sign_ins_and_refreshes_under_way_when_the_account_is_deleted_end_cleanly(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)
    sessions = [person, *[await sign_in(client, person.email) for _ in range(11)]]

    async def refresh(token: str) -> httpx.Response:
        return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})

    under_way = [asyncio.create_task(refresh(s.refresh_token)) for s in sessions]
    under_way += [asyncio.create_task(login(client, person.email)) for _ in range(4)]
    deleted = await client.delete(f"{USERS}/{person.id}", headers=cast.admin.headers)
    responses = await asyncio.gather(*under_way)

    assert deleted.status_code == 204, deleted.text
    assert {response.status_code for response in responses} <= {200, 401}, [
        response.text for response in responses if response.status_code not in (200, 401)
    ]
