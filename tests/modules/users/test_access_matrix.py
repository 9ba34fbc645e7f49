"""Who may call each users route: anonymous, each role, an administrator, a deactivated user,
and anyone touching a record that is not their own."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.modules.users.checks import USERS, Cast, assert_problem, refused_within
from tests.people import Person, sign_up, unique_email

Body = Callable[[], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{id}" stands for the user the call is about
    body: Body | None = None
    admin_status: int = 200

    def url(self, user_id: uuid.UUID | str) -> str:
        return USERS + self.path.format(id=user_id)

    async def call(
        self, client: httpx.AsyncClient, user_id: uuid.UUID | str, headers: dict[str, str]
    ) -> httpx.Response:
        body = self.body() if self.body else None
        return await client.request(self.method, self.url(user_id), json=body, headers=headers)

    def __str__(self) -> str:
        return f"{self.method} {self.path or '/'}"


def replacement() -> dict[str, Any]:
    return {
        "email": unique_email("put"),
        "username": None,
        "full_name": "Put",
        "email_verified": True,
    }


ME = [
    Route("GET", "/me"),
    Route("PATCH", "/me", lambda: {"full_name": "Me Myself"}),
]
COLLECTION = [
    Route("GET", ""),
    Route("POST", "", lambda: {"email": unique_email("matrix")}, admin_status=201),
    Route("GET", "/roles"),
]
RECORD_READ_WRITE = [
    Route("GET", "/{id}"),
    Route("PATCH", "/{id}", lambda: {"full_name": "Renamed"}),
]
RECORD_MANAGE = [
    Route("PUT", "/{id}", replacement),
    Route("PUT", "/{id}/roles", lambda: {"roles": ["admin"]}),
    Route("POST", "/{id}/deactivate"),
    Route("POST", "/{id}/reactivate"),
    Route("POST", "/{id}/erase"),
    Route("DELETE", "/{id}", admin_status=204),
]
EVERY_ROUTE = ME + COLLECTION + RECORD_READ_WRITE + RECORD_MANAGE
WITHOUT_USERS_PERMISSIONS = ["member", "controller", "accountant", "auditor"]


async def someone(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    """A fresh user the caller may be trying to reach."""
    made = await client.post(
        USERS, json={"email": unique_email("target")}, headers=cast.admin.headers
    )
    assert made.status_code == 201
    user: dict[str, Any] = made.json()
    return user


async def as_admin(client: httpx.AsyncClient, cast: Cast, user_id: object) -> httpx.Response:
    return await client.get(f"{USERS}/{user_id}", headers=cast.admin.headers)


@pytest.mark.parametrize("route", EVERY_ROUTE, ids=str)
async def test_anonymous_is_refused_everywhere(client: httpx.AsyncClient, route: Route) -> None:
    response = await route.call(client, uuid.uuid4(), {})

    assert_problem(response, 401, "NOT_AUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("route", EVERY_ROUTE, ids=str)
async def test_a_forged_token_is_refused_everywhere(
    client: httpx.AsyncClient, route: Route
) -> None:
    response = await route.call(client, uuid.uuid4(), {"Authorization": "Bearer not.a.token"})

    assert_problem(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("role", WITHOUT_USERS_PERMISSIONS)
async def test_without_users_permissions_the_list_creation_and_roles_are_refused(
    client: httpx.AsyncClient, cast: Cast, role: str
) -> None:
    for route in COLLECTION:
        response = await route.call(client, "", cast.by_role(role).headers)

        assert_problem(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("role", WITHOUT_USERS_PERMISSIONS)
async def test_without_users_permissions_another_users_record_is_out_of_reach(
    client: httpx.AsyncClient, cast: Cast, role: str
) -> None:
    other = await someone(client, cast)

    for route in RECORD_READ_WRITE + RECORD_MANAGE:
        response = await route.call(client, other["id"], cast.by_role(role).headers)

        assert_problem(response, 403, "PERMISSION_DENIED")

    assert (await as_admin(client, cast, other["id"])).json() == other


@pytest.mark.parametrize("role", [*WITHOUT_USERS_PERMISSIONS, "admin"])
async def test_everyone_reads_and_changes_their_own_record(
    client: httpx.AsyncClient, cast: Cast, role: str
) -> None:
    person = cast.by_role(role)
    name = f"{role.title()} {uuid.uuid4().hex[:6]}"

    read_me = await client.get(f"{USERS}/me", headers=person.headers)
    read_own = await client.get(f"{USERS}/{person.id}", headers=person.headers)
    patched = await client.patch(
        f"{USERS}/{person.id}", json={"full_name": name}, headers=person.headers
    )

    assert read_me.status_code == read_own.status_code == 200
    assert read_own.json()["id"] == read_me.json()["id"] == str(person.id)
    assert read_me.json()["roles"] == [role]
    assert patched.status_code == 200
    assert (await client.get(f"{USERS}/me", headers=person.headers)).json()["full_name"] == name


@pytest.mark.parametrize("role", WITHOUT_USERS_PERMISSIONS)
async def test_without_users_permissions_you_cannot_manage_your_own_record(
    client: httpx.AsyncClient, cast: Cast, role: str
) -> None:
    person = cast.by_role(role)
    before = (await as_admin(client, cast, person.id)).json()

    for route in RECORD_MANAGE:
        response = await route.call(client, person.id, person.headers)

        assert_problem(response, 403, "PERMISSION_DENIED")

    assert (await as_admin(client, cast, person.id)).json() == before


@pytest.mark.parametrize("role", WITHOUT_USERS_PERMISSIONS)
async def test_only_an_administrator_may_mark_an_email_verified(
    client: httpx.AsyncClient, cast: Cast, role: str
) -> None:
    person = cast.by_role(role)

    response = await client.patch(
        f"{USERS}/{person.id}", json={"email_verified": True}, headers=person.headers
    )

    body = assert_problem(response, 403, "FIELD_NOT_ALLOWED")
    assert "email_verified" in body["detail"]
    assert (await as_admin(client, cast, person.id)).json()["email_verified"] is False


@pytest.mark.parametrize("route", EVERY_ROUTE, ids=str)
async def test_an_administrator_may_use_every_route(
    client: httpx.AsyncClient, cast: Cast, route: Route
) -> None:
    other = await someone(client, cast)

    response = await route.call(client, other["id"], cast.admin.headers)

    assert response.status_code == route.admin_status, response.text


@pytest.fixture(scope="module")
async def deactivated(package_client: tuple[FastAPI, httpx.AsyncClient], cast: Cast) -> Person:
    """A member an administrator has deactivated, once their token is refused."""
    _, client = package_client
    person = await sign_up(client)
    response = await client.post(f"{USERS}/{person.id}/deactivate", headers=cast.admin.headers)
    assert response.status_code == 200
    assert await refused_within(client, person)
    return person


async def test_a_deactivated_users_token_is_refused_within_a_second(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    person = await sign_up(client)
    assert (await client.get(f"{USERS}/me", headers=person.headers)).status_code == 200

    await client.post(f"{USERS}/{person.id}/deactivate", headers=cast.admin.headers)

    assert await refused_within(client, person)  # polls for 2 s: room for a slow machine


@pytest.mark.parametrize("route", EVERY_ROUTE, ids=str)
async def test_a_deactivated_user_is_refused_everywhere(
    client: httpx.AsyncClient, deactivated: Person, route: Route
) -> None:
    response = await route.call(client, deactivated.id, deactivated.headers)

    assert_problem(response, 401, "INVALID_TOKEN")
