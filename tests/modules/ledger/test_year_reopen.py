"""Reopening a closed year: an administrator, with a reason, while no later year is closed; the
closing entry is reversed on its own day, the year opens again and its periods stay closed."""

import pytest

from tests.modules.ledger.books import (
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
    profit_or_loss,
    reopen,
    trading_books,
    year,
)

# A database of its own: the statements add up every account in it.
office = office_of_its_own()


@pytest.fixture
async def books(office: Office) -> Books:
    """Trading books whose year is closed."""
    books = await trading_books(office)
    books.fiscal_year = created(await close(books), 200)
    return books


async def test_reopening_reverses_the_closing_entry_on_its_own_day(books: Books) -> None:
    closing_id = books.fiscal_year["closing_entry_id"]

    reopened = created(await reopen(books, "Late supplier invoice"), 200)

    assert (reopened["status"], reopened["closing_entry_id"]) == ("open", None)
    assert {period["status"] for period in reopened["periods"]} == {"closed"}
    closing = await books.get_entry(closing_id)
    assert closing["status"] == "reversed"
    reversal = await books.get_entry(closing["reversed_by"])
    assert (reversal["status"], reversal["entry_date"], reversal["reversal_of"]) == (
        "posted",
        books.day(12, 31),
        closing_id,
    )
    assert reversal["number"].startswith(f"JE-{books.year}-")
    assert "Late supplier invoice" in reversal["description"]
    assert reversal["posted_by"] == str(books.cast.admin.id)
    assert await books.balances("sales", "rent", "retained") == {
        "sales": "150.00",
        "rent": "30.00",
        "retained": "0.00",
    }


async def test_a_reopened_year_keeps_its_profit_or_loss_and_closes_again(books: Books) -> None:
    created(await reopen(books), 200)
    whole_year = (books.day(1, 1), books.day(12, 31))

    reopened_figures = await profit_or_loss(books, *whole_year)
    await books.set_period(12, "open", "Late supplier invoice")
    await books.transfer("rent", "bank", "20.00", on=books.day(12, 30))
    reclosed = created(await close(books), 200)

    assert reopened_figures["amount"]["profit"] == "120.00"
    assert (await profit_or_loss(books, *whole_year))["amount"]["profit"] == "100.00"
    assert reclosed["status"] == "closed"
    assert reclosed["closing_entry_id"] != books.fiscal_year["closing_entry_id"]
    after = closings(await books.trial_balance(start=whole_year[0], end=whole_year[1]), books)
    assert (after["4000"], after["6000"], after["3100"]) == ("0.00", "0.00", "-100.00")
    before = await books.trial_balance(start=whole_year[0], end=whole_year[1], closing="exclude")
    assert (closings(before, books)["4000"], closings(before, books)["6000"]) == (
        "-150.00",
        "50.00",
    )


@pytest.mark.parametrize("role", ["controller", "accountant", "auditor", "member"])
async def test_only_an_administrator_reopens_a_year(books: Books, role: str) -> None:
    response = await reopen(books, by=books.cast.by_role(role))

    assert_problem(response, 403, "PERMISSION_DENIED")
    assert (await year(books))["status"] == "closed"


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 401])
async def test_reopening_needs_a_reason(books: Books, reason: object) -> None:
    response = await reopen(books, reason)

    assert_problem(response, 422, "VALIDATION_FAILED")
    assert (await year(books))["status"] == "closed"


async def test_an_open_year_is_not_reopened(books: Books) -> None:
    created(await reopen(books), 200)

    assert_problem(await reopen(books), 409, "FISCAL_YEAR_NOT_CLOSED")


async def test_a_year_is_not_reopened_while_a_later_year_is_closed(books: Books) -> None:
    following = await following_year(books)
    next_year = created(
        await books.client.post(
            f"{YEARS}/{following['id']}/close",
            json={"retained_earnings_code": books.code("retained")},
            headers=books.cast.controller.headers,
        ),
        200,
    )

    refused = await reopen(books)

    body = assert_problem(refused, 409, "LATER_YEAR_CLOSED")
    assert next_year["name"] in body["detail"]
    assert (await year(books))["status"] == "closed"
    later = await books.client.post(
        f"{YEARS}/{following['id']}/reopen",
        json={"reason": "Wrong order"},
        headers=books.cast.admin.headers,
    )
    assert created(later, 200)["status"] == "open"
    assert created(await reopen(books), 200)["status"] == "open"


async def test_a_year_whose_last_period_is_locked_stays_closed(books: Books) -> None:
    created(await books.set_period(12, "locked"), 200)

    assert_problem(await reopen(books), 409, "FISCAL_YEAR_LOCKED")
    assert (await year(books))["status"] == "closed"
    closing = await books.get_entry(books.fiscal_year["closing_entry_id"])
    assert closing["status"] == "posted"


async def test_reopening_an_unknown_year_is_not_found(books: Books) -> None:
    response = await books.client.post(
        f"{YEARS}/00000000-0000-0000-0000-000000000000/reopen",
        json={"reason": "Audit"},
        headers=books.cast.admin.headers,
    )

    assert_problem(response, 404, "FISCAL_YEAR_NOT_FOUND")


async def test_a_reopen_sent_twice_with_one_key_reopens_once(books: Books) -> None:
    headers = {**books.cast.admin.headers, "Idempotency-Key": "reopen-once"}
    path = f"{YEARS}/{books.fiscal_year['id']}/reopen"

    first = await books.client.post(path, json={"reason": "Audit"}, headers=headers)
    second = await books.client.post(path, json={"reason": "Audit"}, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    reversals = await books.read("/entries", source="reversal", q=f"Reopening of {books.year}")
    assert reversals["count"] == 1


async def test_posting_into_a_reopened_year_needs_its_period_reopened(books: Books) -> None:
    created(await reopen(books), 200)

    refused = await books.create(
        books.debit("rent", "1.00"), books.credit("bank", "1.00"), on=books.day(6, 6), post=True
    )

    assert_problem(refused, 422, "PERIOD_CLOSED")
