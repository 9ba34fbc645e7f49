"""Throwaway databases: a SQLite file by default, or a fresh PostgreSQL database per use."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("AIBOS_DATABASE_URL", "")
REDIS_URL = os.environ.get("AIBOS_REDIS_URL") or None
ON_POSTGRES = SERVER_URL.startswith("postgresql")


async def _on_server(statement: str) -> None:
    dsn = make_url(SERVER_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_empty_database() -> str:
    """The URL of a new, empty database."""
    if not ON_POSTGRES:
        directory = tempfile.mkdtemp(prefix="aibos-test-")
        return f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"
    name = f"aibos_test_{uuid.uuid4().hex[:12]}"
    await _on_server(f'CREATE DATABASE "{name}"')
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        _remove_sqlite_files(Path(str(parsed.database)))
        return
    await _on_server(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.parent.rmdir()


@asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    url = await create_empty_database()
    try:
        yield url
    finally:
        await drop_database(url)
