from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.app import create_app
from aibos.platform.db import create_engine
from aibos.platform.migrations import upgrade
from aibos.platform.settings import Settings
from tests.databases import REDIS_URL, throwaway_database

logging.getLogger("httpx").setLevel(logging.WARNING)  # the test client's own request lines

# Tests share one client address; the rate-limit tests set tight limits of their own.
GENEROUS_RATE_LIMITS = {
    name: "100000/60" for name in Settings.model_fields if name.startswith("rate_limit_")
}

SettingsFactory = Callable[..., Settings]
ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """One database for the whole run, migrated to head once."""
    async with throwaway_database() as url:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        await upgrade(engine)
        await engine.dispose()
        yield url


@pytest.fixture(scope="session")
def cache_namespace() -> str:
    return f"aibos-test-{uuid.uuid4().hex[:8]}"


def settings_for_tests(database_url: str, cache_namespace: str, /, **overrides: Any) -> Settings:
    """Settings of an app under test: this database, this Redis namespace, no .env."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "cache_namespace": cache_namespace,
        "migrate_on_start": False,
        "log_format": "json",
        **GENEROUS_RATE_LIMITS,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings(database_url: str, cache_namespace: str) -> SettingsFactory:
    def build(**overrides: Any) -> Settings:
        return settings_for_tests(database_url, cache_namespace, **overrides)

    return build


@asynccontextmanager
async def serve(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and talk to it over HTTP in process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@pytest.fixture
def make_client(make_settings: SettingsFactory) -> ClientFactory:
    """A client for an app built with some settings changed: `async with make_client(...)`."""

    def build(base_url: str = "http://testserver", **overrides: Any) -> Any:
        return serve(create_app(make_settings(**overrides)), base_url)

    return build


@pytest.fixture
async def app(make_settings: SettingsFactory) -> FastAPI:
    return create_app(make_settings())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port on loopback that accepts connections and never answers: a hung dependency."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port
    for writer in held:
        writer.close()
    server.close()
