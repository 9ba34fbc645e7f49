"""Idempotency-Key under a crowd: twenty requests at once with one key, round after round, do
the work exactly once on every route that takes a key; every other answer is the first one
replayed, or a 409 while it is still running, never a second execution."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from tests.modules.ledger.books import (
    ACCOUNTS,
    ENTRIES,
    LEDGER,
    Books,
    Json,
    created,
    office_of_its_own,
)
from tests.people import Person

ROUNDS = 15
AT_ONCE = 20
CSV = "text/csv"
LARGE = "20000.00"  # above the approval threshold


@dataclass(frozen=True)
class Keyed:
    """One keyed request: where it goes, what it sends, who sends it, and how many entries one
    execution adds."""

    path: str
    body: Json | list[Json] | str | None  # a string is sent as CSV
    by: Person
    adds_entries: int = 0


Setup = Callable[[Books, int], Awaitable[Keyed]]


# A database of this module's own: the fiscal years it opens stay out of other tests.
office = office_of_its_own()


async def _entry(books: Books, _round: int) -> Keyed:
    body = books.entry(books.debit("rent", "1.00"), books.credit("bank", "1.00"), post=True)
    return Keyed(ENTRIES, body, books.cast.accountant, adds_entries=1)


async def _batch(books: Books, _round: int) -> Keyed:
    lines = (books.debit("rent", "1.00"), books.credit("bank", "1.00"))
    body = [books.entry(*lines) for _ in range(3)]
    return Keyed(f"{ENTRIES}/batch", body, books.cast.accountant, adds_entries=3)


async def _draft(books: Books, amount: str = "1.00") -> Json:
    return created(await books.create(books.debit("bank", amount), books.credit("capital", amount)))


async def _post(books: Books, _round: int) -> Keyed:
    draft = await _draft(books)
    return Keyed(f"{ENTRIES}/{draft['id']}/post", None, books.cast.accountant)


async def _awaiting_approval(books: Books) -> Json:
    draft = await _draft(books, LARGE)
    waiting = created(await books.act(draft["id"], "post", books.cast.accountant), 200)
    assert waiting["status"] != "posted", waiting
    return waiting


async def _approve(books: Books, _round: int) -> Keyed:
    waiting = await _awaiting_approval(books)
    return Keyed(f"{ENTRIES}/{waiting['id']}/approve", None, books.cast.controller)


async def _reject(books: Books, _round: int) -> Keyed:
    waiting = await _awaiting_approval(books)
    return Keyed(f"{ENTRIES}/{waiting['id']}/reject", None, books.cast.controller)


async def _reverse(books: Books, _round: int) -> Keyed:
    posted = await books.transfer("rent", "bank", "1.00")
    return Keyed(f"{ENTRIES}/{posted['id']}/reverse", None, books.cast.accountant, adds_entries=1)


async def _fiscal_year(books: Books, round_: int) -> Keyed:
    start = date(2900 + round_, 1, 1)  # far beyond the years the books of every test open
    body = {"start_date": start.isoformat()}
    return Keyed(f"{LEDGER}/fiscal-years", body, books.cast.controller)


async def _account(books: Books, round_: int) -> Keyed:
    body = {"code": f"{books.prefix}9{round_:03d}", "name": "Race", "type": "asset"}
    return Keyed(ACCOUNTS, {**body, "mfrs_class": "current_asset"}, books.cast.accountant)


async def _chart_import(books: Books, round_: int) -> Keyed:
    header = "code,name,type,mfrs_class,parent_code,currency"
    csv = f"{header}\n{books.prefix}8{round_:03d},Imported,asset,current_asset,,\n"
    return Keyed(f"{ACCOUNTS}/import", csv, books.cast.accountant)


async def _exchange_rate(books: Books, round_: int) -> Keyed:
    body = {"currency": "USD", "effective_date": books.day(1, 1 + round_), "rate": "4.25"}
    return Keyed(f"{LEDGER}/exchange-rates", body, books.cast.accountant)


ROUTES: dict[str, Setup] = {
    "entries": _entry,
    "batch": _batch,
    "post": _post,
    "approve": _approve,
    "reject": _reject,
    "reverse": _reverse,
    "fiscal-years": _fiscal_year,
    "accounts": _account,
    "accounts-import": _chart_import,
    "exchange-rates": _exchange_rate,
}


@pytest.mark.parametrize("route", ROUTES)
async def test_one_key_sent_twenty_times_at_once_runs_once(books: Books, route: str) -> None:
    for round_ in range(ROUNDS):
        keyed = await ROUTES[route](books, round_)
        before = await books.entry_count()

        answers = await _at_once(books.client, keyed)

        _assert_one_execution(answers, round_)
        assert await books.entry_count() == before + keyed.adds_entries, f"round {round_}"


async def _at_once(client: httpx.AsyncClient, keyed: Keyed) -> list[httpx.Response]:
    headers = {**keyed.by.headers, "Idempotency-Key": f"race-{uuid.uuid4()}"}
    if isinstance(keyed.body, str):
        sent: dict[str, Any] = {"content": keyed.body, "headers": {**headers, "Content-Type": CSV}}
    else:
        sent = {"json": keyed.body, "headers": headers}
    return await asyncio.gather(*(client.post(keyed.path, **sent) for _ in range(AT_ONCE)))


def _assert_one_execution(answers: list[httpx.Response], round_: int) -> None:
    done = [answer for answer in answers if answer.is_success]
    first = [answer for answer in done if "idempotent-replayed" not in answer.headers]
    assert len(first) == 1, (round_, [(answer.status_code, answer.text) for answer in answers])
    for answer in done:
        assert (answer.status_code, answer.json()) == (first[0].status_code, first[0].json())
    for answer in answers:
        if not answer.is_success:
            assert answer.status_code == 409, (round_, answer.text)
            assert answer.json()["error_code"] == "IDEMPOTENCY_KEY_IN_PROGRESS", answer.text
