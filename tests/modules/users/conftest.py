"""Fixtures for the users tests: a client that checks every users answer for secrets, and a
cast of signed-in people made once for the package (argon2 makes each sign-up cost)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.app import create_app
from tests.conftest import serve, settings_for_tests
from tests.modules.users.checks import USERS, Cast, guarded
from tests.people import admin, sign_up, with_roles


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The shared client, with every users response checked for passwords and hashes."""
    async with serve(app) as client:
        yield guarded(client)


@pytest.fixture(scope="package")
async def package_client(
    database_url: str, cache_namespace: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app and client that live as long as the package, for fixtures shared by its tests."""
    app = create_app(settings_for_tests(database_url, cache_namespace))
    async with serve(app) as client:
        yield app, guarded(client)


@pytest.fixture(scope="package")
async def cast(package_client: tuple[FastAPI, httpx.AsyncClient]) -> Cast:
    """An administrator and one person holding each other seeded role, all signed in."""
    app, client = package_client
    boss = await admin(app, client)
    people = {
        role: await with_roles(app, client, role, by=boss)
        for role in ("controller", "accountant", "auditor")
    }
    member = await sign_up(client)
    me = await client.get(f"{USERS}/me", headers=member.headers)
    assert me.json()["roles"] == ["member"]
    return Cast(admin=boss, member=member, **people)
