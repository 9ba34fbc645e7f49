from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.platform.container import load_all_models
from aibos.platform.db import create_engine, metadata
from aibos.platform.migrations import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from aibos.platform.settings import Settings
from tests.databases import throwaway_database


@pytest.fixture
async def empty_engine() -> AsyncIterator[AsyncEngine]:
    async with throwaway_database() as url:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        yield engine
        await engine.dispose()


async def test_an_empty_database_upgrades_to_head_matching_the_models(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine)
    load_all_models()

    async with empty_engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )

    assert await current_revision(empty_engine) == head_revision()
    assert differences == [], "the models and the migrations disagree: add a revision"


async def test_every_revision_walks_up_and_down(empty_engine: AsyncEngine) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(scripts.walk_revisions())))

    for revision in revisions:
        await upgrade(empty_engine, revision.revision)
        previous = revision.down_revision
        assert previous is None or isinstance(previous, str), (
            "merge revisions need a walk of their own"
        )
        await downgrade(empty_engine, previous or "base")
        await upgrade(empty_engine, revision.revision)

    assert await current_revision(empty_engine) == head_revision()
