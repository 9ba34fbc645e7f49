import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aibos.cli import main
from tests.databases import create_empty_database, drop_database

OPENAPI = Path(__file__).resolve().parents[1] / "openapi.json"


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    url = asyncio.run(create_empty_database())
    yield url
    asyncio.run(drop_database(url))


def run(*args: str, **env: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"AIBOS_ENV": "test", **env})
    return result.exit_code, result.output


def test_migrate_upgrades_an_empty_database_and_current_shows_where_it_stands(
    empty_database_url: str,
) -> None:
    before = run("migrate", "current", AIBOS_DATABASE_URL=empty_database_url)
    upgraded = run("migrate", AIBOS_DATABASE_URL=empty_database_url)
    after = run("migrate", "current", AIBOS_DATABASE_URL=empty_database_url)

    assert before[0] == 1
    assert "current: (empty database)" in before[1]
    assert upgraded[0] == 0
    assert after[0] == 0
    current, head = (line.split()[-1] for line in after[1].splitlines()[:2])
    assert current == head


def test_serve_refuses_unsafe_production_settings_naming_each_variable() -> None:
    code, output = run(
        "serve",
        AIBOS_ENV="production",
        AIBOS_DATABASE_URL=None,
        AIBOS_REDIS_URL=None,
        AIBOS_SECRET_KEY=None,
        AIBOS_SMTP_HOST=None,
    )

    assert code == 2
    for variable in (
        "AIBOS_DATABASE_URL",
        "AIBOS_REDIS_URL",
        "AIBOS_SECRET_KEY",
        "AIBOS_SMTP_HOST",
    ):
        assert variable in output


def test_serve_refuses_several_workers_without_shared_redis() -> None:
    code, output = run("serve", "--workers", "2", AIBOS_REDIS_URL=None)

    assert code == 2
    assert "AIBOS_REDIS_URL" in output


def test_openapi_prints_the_committed_document() -> None:
    code, output = run("openapi")

    assert code == 0
    assert json.loads(output) == json.loads(OPENAPI.read_text())
