"""Fiscal years of twelve monthly periods from any month, and periods that close, reopen with a
reason, and lock for good; postings land only in open periods."""

import itertools
from datetime import date

import pytest

from tests.modules.ledger.books import (
    LEDGER,
    Books,
    Json,
    assert_problem,
    created,
    office_of_its_own,
)

YEARS = f"{LEDGER}/fiscal-years"


# A database of its own: these tests list every fiscal year in it.
office = office_of_its_own()


async def years(books: Books) -> list[Json]:
    response = await books.client.get(YEARS, headers=books.cast.auditor.headers)
    assert response.status_code == 200
    found: list[Json] = response.json()
    return found


async def period_status(books: Books, month: int) -> str:
    year = await books.read(f"/fiscal-years/{books.fiscal_year['id']}")
    return str(year["periods"][month - 1]["status"])


async def test_a_fiscal_year_may_start_in_any_month_and_has_twelve_periods(
    books: Books,
) -> None:
    year = await books.open_year(date(2025, 7, 1))

    assert (year["name"], year["start_date"], year["end_date"]) == (
        "2026",
        "2025-07-01",
        "2026-06-30",
    )
    assert year["status"] == "open"
    periods = year["periods"]
    assert [p["number"] for p in periods] == list(range(1, 13))
    assert (periods[0]["start_date"], periods[0]["end_date"]) == ("2025-07-01", "2025-07-31")
    assert (periods[7]["start_date"], periods[7]["end_date"]) == ("2026-02-01", "2026-02-28")
    assert (periods[11]["start_date"], periods[11]["end_date"]) == ("2026-06-01", "2026-06-30")
    assert all(p["status"] == "open" for p in periods)
    for earlier, later in itertools.pairwise(periods):
        assert date.fromisoformat(earlier["end_date"]).toordinal() + 1 == (
            date.fromisoformat(later["start_date"]).toordinal()
        )
    assert year in await years(books)


async def test_a_fiscal_year_may_be_named(books: Books) -> None:
    response = await books.client.post(
        YEARS,
        json={"start_date": "2023-04-01", "name": "FY23/24"},
        headers=books.cast.controller.headers,
    )

    year = created(response)
    assert (year["name"], year["end_date"]) == ("FY23/24", "2024-03-31")
    found = await books.read(f"/fiscal-years/{year['id']}")
    assert found == year


async def test_a_fiscal_year_starts_on_the_first_of_a_month(books: Books) -> None:
    before = await years(books)

    response = await books.client.post(
        YEARS, json={"start_date": "2022-03-15"}, headers=books.cast.controller.headers
    )

    assert_problem(response, 422, "FISCAL_YEAR_INVALID")
    assert await years(books) == before


async def test_fiscal_years_may_not_overlap(books: Books) -> None:
    before = await years(books)

    response = await books.client.post(
        YEARS, json={"start_date": books.day(7, 1)}, headers=books.cast.controller.headers
    )

    assert_problem(response, 409, "FISCAL_YEAR_OVERLAPS")
    assert await years(books) == before


async def test_an_unknown_fiscal_year_is_not_found(books: Books) -> None:
    response = await books.client.get(
        f"{YEARS}/00000000-0000-0000-0000-000000000000", headers=books.cast.auditor.headers
    )

    assert_problem(response, 404, "FISCAL_YEAR_NOT_FOUND")


async def test_a_period_closes_and_postings_into_it_are_refused(books: Books) -> None:
    closed = created(await books.set_period(3, "closed"), 200)
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00"),
        books.credit("capital", "10.00"),
        on=books.day(3, 31),
        post=True,
    )

    assert closed["status"] == "closed"
    assert_problem(response, 422, "PERIOD_CLOSED")
    assert await books.snapshot() == before
    # the months either side stay open
    await books.transfer("cash", "capital", "1.00", on=books.day(2, 28))
    await books.transfer("cash", "capital", "1.00", on=books.day(4, 1))
    assert await books.balance("cash") == "2.00"


async def test_reopening_a_period_needs_a_reason(books: Books) -> None:
    await books.set_period(3, "closed")

    silent = await books.set_period(3, "open")
    blank = await books.set_period(3, "open", "   ")
    assert_problem(silent, 409, "PERIOD_STATE_INVALID")
    assert_problem(blank, 409, "PERIOD_STATE_INVALID")
    assert await period_status(books, 3) == "closed"

    reopened = created(await books.set_period(3, "open", "Late supplier invoice"), 200)

    assert (reopened["status"], reopened["status_reason"]) == ("open", "Late supplier invoice")
    await books.transfer("cash", "capital", "10.00", on=books.day(3, 31))
    assert await books.balance("cash") == "10.00"


async def test_a_locked_period_is_final(books: Books) -> None:
    await books.set_period(3, "closed")
    locked = created(await books.set_period(3, "locked"), 200)
    before = await books.snapshot()

    reopen = await books.set_period(3, "open", "Audit adjustment")
    close = await books.set_period(3, "closed")
    posting = await books.create(
        books.debit("cash", "10.00"),
        books.credit("capital", "10.00"),
        on=books.day(3, 1),
        post=True,
    )

    assert locked["status"] == "locked"
    assert_problem(reopen, 409, "PERIOD_STATE_INVALID")
    assert_problem(close, 409, "PERIOD_STATE_INVALID")
    assert_problem(posting, 422, "PERIOD_CLOSED")
    assert await period_status(books, 3) == "locked"
    assert await books.snapshot() == before


async def test_a_period_already_closed_cannot_be_closed_again(books: Books) -> None:
    await books.set_period(5, "closed")

    response = await books.set_period(5, "closed")

    assert_problem(response, 409, "PERIOD_STATE_INVALID")


async def test_a_date_outside_every_fiscal_year_takes_no_posting(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00"),
        books.credit("capital", "10.00"),
        on=books.day(6, 1, year_offset=2),
        post=True,
    )

    body = assert_problem(response, 422, "NO_FISCAL_YEAR")
    assert body["detail"].startswith(f"No fiscal year covers {books.day(6, 1, year_offset=2)}")
    assert await books.snapshot() == before


async def test_a_draft_in_a_closed_period_waits_until_the_period_reopens(books: Books) -> None:
    await books.set_period(2, "closed")
    draft = created(
        await books.create(
            books.debit("cash", "10.00"), books.credit("capital", "10.00"), on=books.day(2, 10)
        )
    )

    refused = await books.act(draft["id"], "post", books.cast.accountant)
    assert_problem(refused, 422, "PERIOD_CLOSED")
    assert (await books.get_entry(draft["id"]))["status"] == "draft"

    await books.set_period(2, "open", "One more entry")
    posted = created(await books.act(draft["id"], "post", books.cast.accountant), 200)
    assert (posted["status"], posted["number"]) == ("posted", books.number(1))


@pytest.mark.parametrize("role", ["accountant", "auditor", "member"])
async def test_only_a_controller_changes_periods(books: Books, role: str) -> None:
    response = await books.set_period(1, "closed", by=books.cast.by_role(role))

    assert_problem(response, 403, "PERMISSION_DENIED")
    assert await period_status(books, 1) == "open"


@pytest.mark.parametrize("role", ["accountant", "auditor"])
async def test_only_a_controller_opens_fiscal_years(books: Books, role: str) -> None:
    before = await years(books)

    response = await books.client.post(
        YEARS, json={"start_date": "2020-01-01"}, headers=books.cast.by_role(role).headers
    )

    assert_problem(response, 403, "PERMISSION_DENIED")
    assert await years(books) == before


async def test_an_unknown_period_is_not_found(books: Books) -> None:
    response = await books.client.patch(
        f"{LEDGER}/periods/00000000-0000-0000-0000-000000000000",
        json={"status": "closed"},
        headers=books.cast.controller.headers,
    )

    assert_problem(response, 404, "PERIOD_NOT_FOUND")
