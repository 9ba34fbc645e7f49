"""The administrators' list of users: pages, text search, filters and sorting."""

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.modules.users.checks import USERS, Cast, bad_fields


@dataclass(frozen=True)
class Crowd:
    """Three users sharing a tag no one else has: Ann, Bob and Cy, made in that order."""

    tag: str
    emails: dict[str, str]


@pytest.fixture
async def crowd(client: httpx.AsyncClient, cast: Cast) -> Crowd:
    tag = uuid.uuid4().hex[:12]
    # Emails sort Bob, Cy, Ann; names sort Ann, Bob, Cy; creation goes Ann, Bob, Cy.
    people = {
        "Ann": ("c", ["auditor"]),
        "Bob": ("a", ["member"]),
        "Cy": ("b", ["auditor", "member"]),
    }
    emails = {}
    for name, (letter, roles) in people.items():
        email = f"{letter}-{tag}@example.com"
        made = await client.post(
            USERS,
            json={"email": email, "full_name": f"{name} {tag}", "roles": roles},
            headers=cast.admin.headers,
        )
        assert made.status_code == 201
        emails[name] = email
        if name == "Bob":
            off = await client.post(
                f"{USERS}/{made.json()['id']}/deactivate", headers=cast.admin.headers
            )
            assert off.status_code == 200
    return Crowd(tag=tag, emails=emails)


async def names(client: httpx.AsyncClient, cast: Cast, **params: str | int) -> list[str]:
    response = await client.get(USERS, params=params, headers=cast.admin.headers)
    assert response.status_code == 200, response.text
    return [user["full_name"].split()[0] for user in response.json()["data"]]


async def test_users_come_a_page_at_a_time_with_the_total_count(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    pages = [
        (
            await client.get(
                USERS, params={"q": crowd.tag, "size": 2, "page": page}, headers=cast.admin.headers
            )
        ).json()
        for page in (1, 2, 3)
    ]

    assert [len(page["data"]) for page in pages] == [2, 1, 0]
    assert [page["count"] for page in pages] == [3, 3, 3]
    ids = {user["id"] for page in pages for user in page["data"]}
    assert len(ids) == 3


async def test_the_list_gives_each_users_profile_and_roles(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    response = await client.get(USERS, params={"q": crowd.emails["Cy"]}, headers=cast.admin.headers)

    [cy] = response.json()["data"]
    assert cy["email"] == crowd.emails["Cy"]
    assert cy["full_name"] == f"Cy {crowd.tag}"
    assert cy["roles"] == ["auditor", "member"]
    assert cy["is_active"] is True
    assert {"id", "username", "email_verified", "created_at", "updated_at"} <= set(cy)


async def test_text_search_looks_in_email_and_name_ignoring_case(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    assert await names(client, cast, q=crowd.tag.upper()) == ["Ann", "Bob", "Cy"]
    assert await names(client, cast, q=f"C-{crowd.tag}@") == ["Ann"]
    assert await names(client, cast, q=f"bOB {crowd.tag}") == ["Bob"]
    assert await names(client, cast, q=f"nobody {crowd.tag}") == []


async def test_text_search_takes_percent_and_underscore_literally(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    # Nobody's email or name holds these texts; as LIKE patterns they would match everyone.
    assert await names(client, cast, q=f"{crowd.tag}_example") == []
    assert await names(client, cast, q=f"-{crowd.tag}%com") == []


async def test_users_are_filtered_by_role(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    assert await names(client, cast, q=crowd.tag, role="auditor") == ["Ann", "Cy"]
    assert await names(client, cast, q=crowd.tag, role="member") == ["Bob", "Cy"]
    assert await names(client, cast, q=crowd.tag, role="admin") == []


async def test_users_are_filtered_by_active_or_not(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    assert await names(client, cast, q=crowd.tag, is_active="false") == ["Bob"]
    assert await names(client, cast, q=crowd.tag, is_active="true") == ["Ann", "Cy"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("email", ["Bob", "Cy", "Ann"]),
        ("-email", ["Ann", "Cy", "Bob"]),
        ("full_name", ["Ann", "Bob", "Cy"]),
        ("-full_name", ["Cy", "Bob", "Ann"]),
        ("created_at", ["Ann", "Bob", "Cy"]),
        ("-created_at", ["Cy", "Bob", "Ann"]),
    ],
)
async def test_users_are_sorted_as_asked(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd, sort: str, expected: list[str]
) -> None:
    assert await names(client, cast, q=crowd.tag, sort=sort) == expected


async def test_the_oldest_come_first_unless_told_otherwise(
    client: httpx.AsyncClient, cast: Cast, crowd: Crowd
) -> None:
    assert await names(client, cast, q=crowd.tag) == ["Ann", "Bob", "Cy"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 101}, "size"),
        ({"size": 0}, "size"),
        ({"page": 0}, "page"),
        ({"page": 1_000_001}, "page"),
        ({"page": 10**19}, "page"),
        ({"sort": "nickname"}, "sort"),
        ({"role": "Not A Role!"}, "role"),
        ({"is_active": "perhaps"}, "is_active"),
    ],
)
async def test_a_bad_list_parameter_is_refused(
    client: httpx.AsyncClient, cast: Cast, params: dict[str, str | int], field: str
) -> None:
    response = await client.get(USERS, params=params, headers=cast.admin.headers)

    assert bad_fields(response) == {field}


async def test_a_full_page_holds_up_to_a_hundred(client: httpx.AsyncClient, cast: Cast) -> None:
    response = await client.get(USERS, params={"size": 100}, headers=cast.admin.headers)

    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == min(100, body["count"])


async def test_the_last_page_one_may_ask_for_is_answered_empty(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    params = {"page": 1_000_000, "size": 100}
    response = await client.get(USERS, params=params, headers=cast.admin.headers)

    assert response.status_code == 200
    assert response.json()["data"] == []
