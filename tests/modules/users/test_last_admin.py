"""The last active administrator stays: each test has a database of its own, where the count
of administrators is known, since the shared one gains administrators from every other test."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.app import create_app
from aibos.platform.db import create_engine
from aibos.platform.migrations import upgrade
from aibos.platform.settings import Settings
from tests.conftest import SettingsFactory, serve
from tests.databases import throwaway_database
from tests.modules.users.checks import USERS, assert_problem, guarded
from tests.people import Person, admin


@dataclass(frozen=True)
class Company:
    app: FastAPI
    client: httpx.AsyncClient
    first: Person  # its only administrator

    async def user(self, person: Person) -> dict[str, Any]:
        response = await self.client.get(f"{USERS}/{person.id}", headers=self.first.headers)
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture
async def company(make_settings: SettingsFactory) -> AsyncIterator[Company]:
    """A fresh database whose only user is one active administrator."""
    async with throwaway_database() as url:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        await upgrade(engine)
        await engine.dispose()
        app = create_app(make_settings(database_url=url))
        async with serve(app) as client:
            guarded(client)
            first = await admin(app, client)
            listed = await client.get(USERS, headers=first.headers)
            assert listed.json()["count"] == 1
            yield Company(app, client, first)


def demote(person: Person) -> tuple[str, str, dict[str, Any] | None]:
    return "PUT", f"{USERS}/{person.id}/roles", {"roles": ["member"]}


def deactivate(person: Person) -> tuple[str, str, dict[str, Any] | None]:
    return "POST", f"{USERS}/{person.id}/deactivate", None


def delete(person: Person) -> tuple[str, str, dict[str, Any] | None]:
    return "DELETE", f"{USERS}/{person.id}", None


def erase(person: Person) -> tuple[str, str, dict[str, Any] | None]:
    return "POST", f"{USERS}/{person.id}/erase", None


REMOVALS = [demote, deactivate, delete, erase]


async def remove(company: Company, action: Any, person: Person, by: Person) -> httpx.Response:
    method, url, body = action(person)
    return await company.client.request(method, url, json=body, headers=by.headers)


async def active_administrators(company: Company, *askers: Person) -> int:
    """The count of active administrators, asked by the first of `askers` still allowed to."""
    query = {"role": "admin", "is_active": "true"}
    for asker in askers:
        response = await company.client.get(USERS, params=query, headers=asker.headers)
        if response.status_code == 200:
            count: int = response.json()["count"]
            return count
    return 0


@pytest.mark.parametrize("action", REMOVALS, ids=lambda action: action.__name__)
async def test_the_last_active_administrator_cannot_be_removed(
    company: Company, action: Any
) -> None:
    before = await company.user(company.first)

    response = await remove(company, action, company.first, by=company.first)

    body = assert_problem(response, 409, "LAST_ADMIN")
    assert body["detail"]
    assert await company.user(company.first) == before
    assert before["roles"] == ["admin"]
    assert before["is_active"] is True


@pytest.mark.parametrize("action", REMOVALS, ids=lambda action: action.__name__)
async def test_with_a_second_active_administrator_the_first_can_go(
    company: Company, action: Any
) -> None:
    second = await admin(company.app, company.client)

    response = await remove(company, action, company.first, by=second)

    assert response.is_success, response.text
    now_last = await remove(company, action, second, by=second)
    assert_problem(now_last, 409, "LAST_ADMIN")


async def test_a_deactivated_administrator_does_not_count(company: Company) -> None:
    second = await admin(company.app, company.client)
    off = await remove(company, deactivate, second, by=company.first)
    assert off.status_code == 200

    response = await remove(company, demote, company.first, by=company.first)

    assert_problem(response, 409, "LAST_ADMIN")
    assert (await company.user(company.first))["roles"] == ["admin"]


async def test_the_last_administrator_may_take_more_roles(company: Company) -> None:
    response = await company.client.put(
        f"{USERS}/{company.first.id}/roles",
        json={"roles": ["admin", "auditor"]},
        headers=company.first.headers,
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["admin", "auditor"]


@pytest.mark.parametrize("theirs", REMOVALS, ids=lambda action: action.__name__)
@pytest.mark.parametrize("mine", REMOVALS, ids=lambda action: action.__name__)
async def test_two_administrators_removing_each_other_at_once_leave_one(
    company: Company, mine: Any, theirs: Any
) -> None:
    second = await admin(company.app, company.client)

    responses = await asyncio.gather(
        remove(company, mine, second, by=company.first),
        remove(company, theirs, company.first, by=second),
    )

    assert all(r.status_code < 500 for r in responses), [r.text for r in responses]
    assert not all(r.is_success for r in responses)
    assert await active_administrators(company, company.first, second) == 1
