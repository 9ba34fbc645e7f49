"""Roles: the seeded ones, and an administrator giving them to people."""

import asyncio

import httpx

from tests.modules.auth.tokens import claims_of
from tests.modules.users.checks import (
    USERS,
    Cast,
    assert_problem,
    bad_fields,
    create,
    login,
    refused_within,
)
from tests.people import sign_in, sign_up


async def test_the_roles_are_listed_with_their_permissions(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    response = await client.get(f"{USERS}/roles", headers=cast.admin.headers)

    assert response.status_code == 200
    roles = {role["name"]: role for role in response.json()}
    assert set(roles) == {"admin", "controller", "accountant", "auditor", "member"}
    assert roles["admin"]["permissions"] == ["*"]
    assert all(role["description"] for role in roles.values())
    assert all(isinstance(role["permissions"], list) for role in roles.values())


async def test_assigning_roles_replaces_them_and_the_old_token_stops_working(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)

    response = await client.put(
        f"{USERS}/{person.id}/roles",
        json={"roles": ["auditor", "accountant", "auditor"]},
        headers=cast.admin.headers,
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["accountant", "auditor"]
    assert await refused_within(client, person)
    again = await sign_in(client, person.email)
    assert (await client.get(f"{USERS}/me", headers=again.headers)).json()["roles"] == [
        "accountant",
        "auditor",
    ]


async def test_a_sign_in_under_way_when_the_roles_change_gets_a_working_token_with_the_new_ones(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)
    signing_in = asyncio.create_task(login(client, person.email))
    await asyncio.sleep(0.005)  # the sign-in is checking the password: argon2 takes longer

    changed = await client.put(
        f"{USERS}/{person.id}/roles", json={"roles": ["auditor"]}, headers=cast.admin.headers
    )

    assert changed.status_code == 200
    response = await signing_in
    assert response.status_code == 200, response.text
    access_token = response.json()["access_token"]
    assert claims_of(access_token)["roles"] == ["auditor"]
    me = await client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 200


async def test_an_unknown_role_is_refused_and_the_roles_stay(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await create(client, cast.admin, roles=["auditor"])

    unknown = await client.put(
        f"{USERS}/{user['id']}/roles", json={"roles": ["wizard"]}, headers=cast.admin.headers
    )
    empty = await client.put(
        f"{USERS}/{user['id']}/roles", json={"roles": []}, headers=cast.admin.headers
    )

    assert_problem(unknown, 422, "UNKNOWN_ROLE")
    assert bad_fields(empty) == {"roles"}
    current = await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)
    assert current.json()["roles"] == ["auditor"]
