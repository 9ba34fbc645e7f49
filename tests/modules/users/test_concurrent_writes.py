"""Writes to one user at the same time take turns: each sees the one before it, none is a 500.
The races show on PostgreSQL; SQLite runs one writer at a time anyway."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.modules.users.checks import USERS, Cast, create

USERS_AT_ONCE = 5


async def assign(
    client: httpx.AsyncClient, cast: Cast, user: dict[str, Any], roles: list[str]
) -> httpx.Response:
    url = f"{USERS}/{user['id']}/roles"
    return await client.put(url, json={"roles": roles}, headers=cast.admin.headers)


async def roles_of(client: httpx.AsyncClient, cast: Cast, user: dict[str, Any]) -> list[str]:
    response = await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)
    roles: list[str] = response.json()["roles"]
    return roles


@pytest.mark.parametrize(
    "requested",
    [(["auditor"], ["auditor"]), (["auditor"], ["accountant", "controller"])],
    ids=["the same roles", "different roles"],
)
async def test_roles_assigned_at_once_end_as_one_of_the_sets_asked_for(
    client: httpx.AsyncClient, cast: Cast, requested: tuple[list[str], list[str]]
) -> None:
    users = [await create(client, cast.admin) for _ in range(USERS_AT_ONCE)]

    responses = await asyncio.gather(
        *(assign(client, cast, user, roles) for user in users for roles in requested)
    )

    assert [r.status_code for r in responses] == [200] * len(responses), responses[0].text
    for user in users:
        assert await roles_of(client, cast, user) in requested


async def test_roles_assigned_while_the_user_is_deleted_are_done_first_or_a_404(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    users = [await create(client, cast.admin) for _ in range(USERS_AT_ONCE)]

    responses = await asyncio.gather(
        *(
            request
            for user in users
            for request in (
                client.delete(f"{USERS}/{user['id']}", headers=cast.admin.headers),
                assign(client, cast, user, ["auditor"]),
            )
        )
    )

    deletions, assignments = responses[::2], responses[1::2]
    assert [r.status_code for r in deletions] == [204] * USERS_AT_ONCE
    assert {r.status_code for r in assignments} <= {200, 404}, [r.text for r in assignments]
    for user in users:
        gone = await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)
        assert gone.status_code == 404
