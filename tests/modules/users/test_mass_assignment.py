"""Fields nobody may slip into a body: roles, flags, ids and timestamps have their own doors."""

import uuid
from typing import Any

import httpx
import pytest

from tests.modules.users.checks import USERS, Cast, bad_fields
from tests.people import unique_email

SMUGGLED = {
    "roles": ["admin"],
    "is_active": False,
    "email_verified": True,
    "id": str(uuid.uuid4()),
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
}


@pytest.mark.parametrize("field", list(SMUGGLED))
async def test_your_own_profile_refuses_fields_you_may_not_set(
    client: httpx.AsyncClient, cast: Cast, field: str
) -> None:
    before = (await client.get(f"{USERS}/me", headers=cast.member.headers)).json()

    response = await client.patch(
        f"{USERS}/me",
        json={"full_name": "Sneaky", field: SMUGGLED[field]},
        headers=cast.member.headers,
    )

    assert bad_fields(response) == {field}
    assert (await client.get(f"{USERS}/me", headers=cast.member.headers)).json() == before


@pytest.mark.parametrize("field", ["roles", "is_active", "id"])
async def test_your_own_record_by_id_refuses_roles_flags_and_ids(
    client: httpx.AsyncClient, cast: Cast, field: str
) -> None:
    me = cast.member

    response = await client.patch(
        f"{USERS}/{me.id}", json={field: SMUGGLED[field]}, headers=me.headers
    )

    assert bad_fields(response) == {field}
    assert (await client.get(f"{USERS}/me", headers=me.headers)).json()["roles"] == ["member"]


@pytest.mark.parametrize("field", ["is_active", "email_verified", "id", "created_at", "is_admin"])
async def test_creating_a_user_refuses_unknown_fields_and_creates_nobody(
    client: httpx.AsyncClient, cast: Cast, field: str
) -> None:
    email = unique_email("smuggle")

    response = await client.post(
        USERS, json={"email": email, field: SMUGGLED.get(field, True)}, headers=cast.admin.headers
    )

    assert bad_fields(response) == {field}
    found = await client.get(USERS, params={"q": email}, headers=cast.admin.headers)
    assert found.json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "field"),
    [("PUT", "roles"), ("PUT", "is_active"), ("PATCH", "roles"), ("PATCH", "is_active")],
)
async def test_an_administrator_changes_roles_and_activity_only_through_their_routes(
    client: httpx.AsyncClient, cast: Cast, method: str, field: str
) -> None:
    made = await client.post(
        USERS, json={"email": unique_email("kept")}, headers=cast.admin.headers
    )
    user: dict[str, Any] = made.json()
    body = {
        "email": user["email"],
        "username": None,
        "full_name": "Kept",
        "email_verified": False,
        field: SMUGGLED[field],
    }

    response = await client.request(
        method, f"{USERS}/{user['id']}", json=body, headers=cast.admin.headers
    )

    assert bad_fields(response) == {field}
    assert (await client.get(f"{USERS}/{user['id']}", headers=cast.admin.headers)).json() == user
