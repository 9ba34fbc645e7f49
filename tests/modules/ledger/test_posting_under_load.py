"""Postings under load: they never wait for a connection behind readers, and the answer kept
with an Idempotency-Key by the booking statement itself is the answer given."""

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import text

from aibos.platform.app import create_app
from tests.conftest import serve
from tests.modules.ledger.books import ENTRIES, LEDGER, Books, Office, created, settings_for

ROUNDS = 4
AT_ONCE = 25


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"load-{uuid.uuid4()}"}


async def test_a_posting_needs_no_connection_of_the_pool_readers_share(
    office: Office, books: Books
) -> None:
    if not office.url.startswith("postgresql"):
        pytest.skip("SQLite writes one at a time anyway: the writers' own pool is PostgreSQL's")
    app = create_app(settings_for(office.url, db_pool_size=2, db_pool_timeout_seconds=1))
    body = books.entry(books.debit("rent", "10.00"), books.credit("bank", "10.00"), post=True)
    headers = books.cast.accountant.headers
    async with serve(app) as client:
        created(await client.post(ENTRIES, json=body, headers=headers))  # signed in, cached
        engine = app.state.container.engine()
        async with engine.connect() as first, engine.connect() as second:
            # Every connection readers share is taken, as by readers the event loop is slow on.
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
            response = await client.post(ENTRIES, json=body, headers={**headers, **key()})
    entry = created(response)
    assert (entry["status"], entry["number"]) == ("posted", books.number(2))


async def test_many_keyed_postings_at_once_replay_the_answers_they_gave(books: Books) -> None:
    for _ in range(ROUNDS):
        headers = [key() for _ in range(AT_ONCE)]
        lines = (books.debit("rent", "1.00"), books.credit("bank", "1.00"))
        first = await asyncio.gather(
            *(books.create(*lines, post=True, headers=one) for one in headers)
        )
        again = await asyncio.gather(
            *(books.create(*lines, post=True, headers=one) for one in headers)
        )
        assert [response.status_code for response in first] == [201] * AT_ONCE
        assert [response.json() for response in again] == [response.json() for response in first]
        assert all(response.headers["idempotent-replayed"] == "true" for response in again)
    numbers = sorted(response.json()["number"] for response in first)
    assert numbers[-1] == books.number(ROUNDS * AT_ONCE)
    assert await books.balance("rent") == f"{ROUNDS * AT_ONCE}.00"


async def test_a_replayed_answer_keeps_a_year_name_that_json_must_escape(books: Books) -> None:
    name = 'FY"\\é'
    response = await books.client.post(
        f"{LEDGER}/fiscal-years",
        json={"start_date": date(books.year - 1, 1, 1).isoformat(), "name": name},
        headers=books.cast.controller.headers,
    )
    created(response)
    lines = (books.debit("rent", "5.00"), books.credit("bank", "5.00"))
    headers = key()
    on = date(books.year - 1, 3, 1).isoformat()

    first = await books.create(*lines, on=on, post=True, headers=headers)
    again = await books.create(*lines, on=on, post=True, headers=headers)

    assert created(first)["number"] == f"JE-{name}-000001"
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
