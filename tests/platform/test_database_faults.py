"""A database out of reach answers 503 with Retry-After and one log line; a restart that has
finished costs no request; a sign-in that failed for the database is no guess at a password."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from aibos.platform.app import create_app
from tests.conftest import ClientFactory, serve
from tests.databases import ON_POSTGRES, SERVER_URL
from tests.modules.ledger.books import (
    ENTRIES,
    LEDGER,
    Books,
    Office,
    office_of_its_own,
    settings_for,
)
from tests.people import Person

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/users/me"
AT_ONCE = 20


office = office_of_its_own()


@pytest.fixture
async def books(office: Office) -> Books:
    return await office.new_books()


def _login(person: Person) -> dict[str, str]:
    return {"email": person.email, "password": person.password}


async def _on_server(statement: str) -> list[asyncpg.Record]:
    dsn = make_url(SERVER_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(statement))
    finally:
        await connection.close()


async def _terminate_backends(name: str) -> None:
    """What a restart does to every connection the app holds; returns once they are gone."""
    others = f"FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    await _on_server(f"SELECT pg_terminate_backend(pid) {others}")
    for _ in range(200):
        if not await _on_server(f"SELECT pid {others}"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the app's event loop reads each socket's end


@asynccontextmanager
async def database_down(office: Office) -> AsyncIterator[None]:
    """The office's database refuses every connection, and those it had are closed."""
    database = str(make_url(office.url).database)
    if ON_POSTGRES:
        await _on_server(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await _terminate_backends(database)
        try:
            yield
        finally:
            await _on_server(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        return
    folder = Path(database).parent  # SQLite: the file's folder goes away, as an unmounted volume
    away = folder.with_name(folder.name + "-away")
    folder.rename(away)
    await office.app.state.container.engine().dispose()  # pooled connections keep it open
    try:
        yield
    finally:
        away.rename(folder)


def _log_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "DATABASE_UNAVAILABLE"


async def test_a_database_that_is_down_answers_503_with_retry_after_and_one_log_line(
    books: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    accountant = books.cast.accountant
    entry = books.entry(books.debit("rent", "1.00"), books.credit("bank", "1.00"), post=True)
    async with serve(create_app(settings_for(books.office.url))) as client:  # logs to capsys
        capsys.readouterr()
        async with database_down(books.office):
            answers = [
                await client.post(LOGIN, json=_login(accountant)),
                await client.get(ME, headers=accountant.headers),
                await client.get(f"{LEDGER}/accounts", headers=accountant.headers),
                await client.post(ENTRIES, json=entry, headers=accountant.headers),
            ]
        output = capsys.readouterr().err
        posted = await client.post(ENTRIES, json=entry, headers=accountant.headers)

    for answer in answers:
        _assert_unavailable(answer)
    assert "Traceback" not in output
    lines = _log_lines(output)
    assert not [line for line in lines if line["event"] == "unhandled_error"]
    warnings = [line for line in lines if line["event"] == "database_unavailable"]
    assert len(warnings) == len(answers)
    assert all(len(json.dumps(line)) < 1000 for line in warnings)
    assert posted.status_code == 201, posted.text


async def test_a_database_never_reached_answers_503(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    nowhere = (
        "postgresql+asyncpg://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1
        if ON_POSTGRES
        else f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'test.db'}"
    )
    async with make_client(database_url=nowhere) as client:
        answers = [
            await client.post(LOGIN, json={"email": "a@example.com", "password": "x"}),
            await client.post(
                "/api/v1/auth/register",
                json={"email": "b@example.com", "password": "Tr0ub4dor-and-3", "full_name": "B"},
            ),
        ]
    for answer in answers:
        _assert_unavailable(answer)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has no server to restart")
async def test_after_a_restart_no_request_gets_a_dead_connection(books: Books) -> None:
    client, accountant = books.client, books.cast.accountant
    entry = books.entry(books.debit("rent", "1.00"), books.credit("bank", "1.00"), post=True)
    await _everyone_at_once(client, accountant, entry)  # every pooled connection in use

    await _terminate_backends(str(make_url(books.office.url).database))

    for answer in await _everyone_at_once(client, accountant, entry):
        assert answer.status_code in (200, 201), answer.text


async def _everyone_at_once(
    client: httpx.AsyncClient, person: Person, entry: dict[str, object]
) -> list[httpx.Response]:
    headers = person.headers
    return await asyncio.gather(
        *(client.post(LOGIN, json=_login(person)) for _ in range(AT_ONCE)),
        *(client.get(ME, headers=headers) for _ in range(AT_ONCE)),
        *(client.post(ENTRIES, json=entry, headers=headers) for _ in range(AT_ONCE)),
    )


async def test_sign_ins_that_fail_for_the_database_do_not_lock_the_account(office: Office) -> None:
    strict = create_app(settings_for(office.url, rate_limit_login_per_account="10/300"))
    member = office.cast.member
    async with serve(strict) as client:
        async with database_down(office):
            for _ in range(12):
                _assert_unavailable(await client.post(LOGIN, json=_login(member)))

        signed_in = await client.post(LOGIN, json=_login(member))

    assert signed_in.status_code == 200, signed_in.text
