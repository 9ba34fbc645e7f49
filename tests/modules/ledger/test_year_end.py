"""The year-end close: the closing entry takes a year's profit to retained earnings without
wiping the year's statement of profit or loss; a year closes only once it has ended and
everything dated in it is posted; closing is not locking."""

from datetime import UTC, date, datetime

import pytest

from tests.modules.ledger.books import (
    LEDGER,
    Books,
    Office,
    assert_problem,
    created,
    office_of_its_own,
)
from tests.modules.ledger.closing import (
    YEARS,
    close,
    closings,
    following_year,
    position,
    profit_or_loss,
    trading_books,
    year,
)

# A database of its own: the statements add up every account in it.
office = office_of_its_own()


@pytest.fixture
async def books(office: Office) -> Books:
    return await trading_books(office)


# Closing keeps the year's profit or loss


async def test_a_closed_year_s_profit_or_loss_still_shows_its_income_and_expenses(
    books: Books,
) -> None:
    created(await close(books), 200)

    whole_year = await profit_or_loss(books, books.day(1, 1), books.day(12, 31))
    december = await profit_or_loss(books, books.day(12, 1), books.day(12, 31))
    last_half = await profit_or_loss(books, books.day(7, 1), books.day(12, 31))
    next_year = await profit_or_loss(books, books.day(1, 1, 1), books.day(12, 31, 1))

    assert (whole_year["amount"]["revenue"], whole_year["amount"]["operating_expense"]) == (
        "150.00",
        "30.00",
    )
    assert whole_year["amount"]["profit"] == "120.00"
    assert december["amount"]["profit"] == "0.00"
    assert last_half["amount"]["revenue"] == "50.00"
    assert next_year["amount"]["profit"] == "0.00"
    assert next_year["comparative"]["revenue"] == "150.00"
    assert next_year["comparative"]["profit"] == "120.00"


async def test_the_closing_entry_takes_the_profit_to_retained_earnings(books: Books) -> None:
    before = await position(books)

    closed = created(await close(books), 200)

    entry = await books.get_entry(closed["closing_entry_id"])
    assert (entry["status"], entry["entry_date"], entry["source"]) == (
        "posted",
        books.day(12, 31),
        "year-end",
    )
    assert {(line["account_code"], line["side"], line["amount"]) for line in entry["lines"]} == {
        (books.code("sales"), "debit", "150.00"),
        (books.code("rent"), "credit", "30.00"),
        (books.code("retained"), "credit", "120.00"),
    }
    assert await books.balances("sales", "rent", "retained") == {
        "sales": "0.00",
        "rent": "0.00",
        "retained": "120.00",
    }
    after = await position(books)
    assert (before["current_year_profit"], after["current_year_profit"]) == (12000, 0)
    assert after["equity"] - before["equity"] == 12000
    assert after["total_equity"] == before["total_equity"]
    assert after["total_assets"] == after["total_equity_and_liabilities"]


async def test_the_trial_balance_shows_the_year_before_or_after_its_closing_entry(
    books: Books,
) -> None:
    created(await close(books), 200)
    span = {"start": books.day(1, 1), "end": books.day(12, 31)}

    default = await books.trial_balance(**span)
    after = await books.trial_balance(**span, closing="include")
    before = await books.trial_balance(**span, closing="exclude")

    assert default == after
    assert after["closing_entries"] == "include"
    assert closings(after, books) == {
        "1010": "1120.00",
        "3000": "-1000.00",
        "3100": "-120.00",
        "4000": "0.00",
        "6000": "0.00",
    }
    assert before["closing_entries"] == "exclude"
    assert closings(before, books) == {
        "1010": "1120.00",
        "3000": "-1000.00",
        "4000": "-150.00",
        "6000": "30.00",
    }
    for report in (before, after):
        assert report["total_debits"] == report["total_credits"]


async def test_a_loss_is_debited_to_retained_earnings(office: Office) -> None:
    books = await office.new_books("bank", "capital", "rent", past=True)
    await books.transfer("rent", "bank", "80.00", on=books.day(5, 5))

    closed = created(await close(books, code=books.code("capital")), 200)

    entry = await books.get_entry(closed["closing_entry_id"])
    assert {(line["account_code"], line["side"]) for line in entry["lines"]} == {
        (books.code("rent"), "credit"),
        (books.code("capital"), "debit"),
    }
    figures = await profit_or_loss(books, books.day(1, 1), books.day(12, 31))
    assert figures["amount"]["profit"] == "-80.00"


async def test_a_year_whose_income_passes_what_one_line_carries_closes(office: Office) -> None:
    books = await office.new_books("bank", "capital", "sales", past=True)
    largest = "99999999999.99"  # the most one line may carry
    for month in (3, 4):
        sale = books.debit("bank", largest), books.credit("sales", largest)
        entry = created(await books.create(*sale, on=books.day(month, 1), post=True))
        approved = await books.act(entry["id"], "approve", books.cast.controller)
        assert approved.status_code == 200, approved.text

    closed = created(await close(books, code=books.code("capital")), 200)

    entry = await books.get_entry(closed["closing_entry_id"])
    assert {(line["account_code"], line["side"]) for line in entry["lines"]} == {
        (books.code("sales"), "debit"),
        (books.code("capital"), "credit"),
    }
    figures = await profit_or_loss(books, books.day(1, 1), books.day(12, 31))
    assert figures["amount"]["profit"] == "199999999999.98"


async def test_a_year_without_income_or_expenses_closes_without_an_entry(
    office: Office,
) -> None:
    books = await office.new_books("bank", "capital", past=True)
    await books.transfer("bank", "capital", "10.00", on=books.day(2, 2))

    closed = created(await close(books, code=books.code("capital")), 200)

    assert (closed["status"], closed["closing_entry_id"]) == ("closed", None)


# When a year may close


async def test_a_year_is_not_closed_before_its_last_day(office: Office) -> None:
    books = await office.new_books()  # a year still to come
    today = datetime.now(UTC).date()
    current = await books.open_year(date(today.year, today.month, 1))  # ends in 11 months

    for fiscal_year in (books.fiscal_year, current):
        response = await books.client.post(
            f"{YEARS}/{fiscal_year['id']}/close",
            json={"retained_earnings_code": books.code("capital")},
            headers=books.cast.controller.headers,
        )

        body = assert_problem(response, 409, "FISCAL_YEAR_NOT_ENDED")
        assert fiscal_year["end_date"] in body["detail"]
        after = await books.read(f"/fiscal-years/{fiscal_year['id']}")
        assert after["status"] == "open"
        assert {period["status"] for period in after["periods"]} == {"open"}


async def test_a_year_with_drafts_or_entries_awaiting_approval_is_not_closed(
    books: Books,
) -> None:
    draft = created(await books.create(books.debit("rent", "5.00"), books.credit("bank", "5.00")))
    pending = created(
        await books.create(
            books.debit("rent", "20000.00"),
            books.credit("bank", "20000.00"),
            on=books.day(12, 31),
            post=True,
        )
    )
    assert pending["status"] == "pending_approval"

    refused = await close(books)

    body = assert_problem(refused, 409, "FISCAL_YEAR_HAS_UNPOSTED")
    assert "1 draft and 1 entry awaiting approval" in body["detail"]
    assert (await year(books))["status"] == "open"

    deleted = await books.client.delete(
        f"{LEDGER}/entries/{draft['id']}", headers=books.cast.accountant.headers
    )
    assert deleted.status_code == 204
    rejected = await books.act(pending["id"], "reject", books.cast.controller)
    assert rejected.status_code == 200, rejected.text
    assert_problem(await close(books), 409, "FISCAL_YEAR_HAS_UNPOSTED")  # back to draft
    await books.client.delete(
        f"{LEDGER}/entries/{pending['id']}", headers=books.cast.accountant.headers
    )
    created(await close(books), 200)


async def test_closing_closes_the_periods_without_locking_them(books: Books) -> None:
    await books.set_period(3, "closed")
    created(await books.set_period(4, "locked"), 200)

    closed = created(await close(books), 200)

    statuses = [period["status"] for period in closed["periods"]]
    assert statuses == ["closed"] * 3 + ["locked"] + ["closed"] * 8
    refused = await books.create(
        books.debit("rent", "1.00"), books.credit("bank", "1.00"), on=books.day(12, 1), post=True
    )
    assert_problem(refused, 422, "PERIOD_CLOSED")
    assert created(await books.set_period(12, "locked"), 200)["status"] == "locked"
    assert (await following_year(books))["status"] == "open"


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [("NOPE-1", 404, "ACCOUNT_NOT_FOUND"), ("bank", 422, "INVALID_ACCOUNT")],
)
async def test_retained_earnings_is_an_existing_equity_account(
    books: Books, code: str, status: int, error_code: str
) -> None:
    response = await close(books, code=books.code(code))

    assert_problem(response, status, error_code)
    assert (await year(books))["status"] == "open"
    assert await books.balance("sales") == "150.00"


async def test_a_year_closes_once(books: Books) -> None:
    created(await close(books), 200)

    assert_problem(await close(books), 409, "FISCAL_YEAR_CLOSED")


async def test_closing_an_unknown_year_is_not_found(books: Books) -> None:
    response = await books.client.post(
        f"{YEARS}/00000000-0000-0000-0000-000000000000/close",
        json={"retained_earnings_code": books.code("retained")},
        headers=books.cast.controller.headers,
    )

    assert_problem(response, 404, "FISCAL_YEAR_NOT_FOUND")


async def test_a_close_sent_twice_with_one_key_closes_once(books: Books) -> None:
    first = await close(books, key="close-once")
    second = await close(books, key="close-once")

    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()


async def test_only_a_controller_or_an_administrator_closes_a_year(books: Books) -> None:
    for person in (books.cast.accountant, books.cast.auditor, books.cast.member):
        assert_problem(await close(books, by=person), 403, "PERMISSION_DENIED")

    assert (await year(books))["status"] == "open"
