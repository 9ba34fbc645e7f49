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


def _admin_dsn() -> str:
    url = make_url(SERVER_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    """Yield the URL of a new, empty database and drop it afterwards."""
    if not ON_POSTGRES:
        with tempfile.TemporaryDirectory(prefix="aibos-test-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"
        return
    name = f"aibos_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
