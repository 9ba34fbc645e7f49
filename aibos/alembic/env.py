"""One migration history for every module; runs on SQLite (batch mode) and PostgreSQL."""

import asyncio

from alembic import context
from sqlalchemy import Connection

from aibos.platform.container import load_all_models
from aibos.platform.db import create_engine, metadata
from aibos.platform.settings import Settings

load_all_models()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    engine = create_engine(Settings())
    async with engine.begin() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    asyncio.run(run_with_own_engine())
