"""Helpers for the year-end tests: books of a year long over, closing and reopening it."""

import httpx

from tests.modules.ledger.books import LEDGER, Books, Json, Office
from tests.people import Person

YEARS = f"{LEDGER}/fiscal-years"


async def trading_books(office: Office) -> Books:
    """Books of a year long over, with retained earnings, and a year of trading in them:
    capital 1,000 into the bank, sales 100 in March and 50 in November, rent 30 in June."""
    books = await office.new_books("bank", "capital", "sales", "rent", past=True)
    books.accounts["retained"] = await books.add_account(
        books.prefix + "3100", "equity", "equity", name="Retained earnings"
    )
    await books.transfer("bank", "capital", "1000.00", on=books.day(1, 2))
    await books.transfer("bank", "sales", "100.00", on=books.day(3, 10))
    await books.transfer("rent", "bank", "30.00", on=books.day(6, 1))
    await books.transfer("bank", "sales", "50.00", on=books.day(11, 20))
    return books


async def close(
    books: Books, *, code: str | None = None, by: Person | None = None, key: str | None = None
) -> httpx.Response:
    headers = dict((by or books.cast.controller).headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await books.client.post(
        f"{YEARS}/{books.fiscal_year['id']}/close",
        json={"retained_earnings_code": code or books.code("retained")},
        headers=headers,
    )


async def reopen(
    books: Books, reason: object = "Audit adjustment", *, by: Person | None = None
) -> httpx.Response:
    return await books.client.post(
        f"{YEARS}/{books.fiscal_year['id']}/reopen",
        json={"reason": reason},
        headers=(by or books.cast.admin).headers,
    )


async def profit_or_loss(books: Books, start: str, end: str) -> dict[str, dict[str, str]]:
    statement = await books.read("/reports/profit-or-loss", start=start, end=end)
    return {
        column: {line["key"]: line[column] for line in statement["lines"]}
        for column in ("amount", "comparative")
    }


def closings(report: Json, books: Books) -> dict[str, str]:
    return {
        row["account_code"].removeprefix(books.prefix): _signed(row)
        for row in report["rows"]
        if row["account_code"].startswith(books.prefix)
    }


async def position(books: Books) -> dict[str, int]:
    """The statement of financial position at the year end, in minor units."""
    statement = await books.read("/reports/financial-position", as_of=books.day(12, 31))
    return {line["key"]: int(line["amount"].replace(".", "")) for line in statement["lines"]}


async def year(books: Books) -> Json:
    return await books.read(f"/fiscal-years/{books.fiscal_year['id']}")


async def following_year(books: Books) -> Json:
    """The fiscal year after the books' own."""
    response = await books.client.get(YEARS, headers=books.cast.auditor.headers)
    found: Json = next(y for y in response.json() if y["name"] == str(books.year + 1))
    return found


def _signed(row: Json) -> str:
    """A row's closing balance as one signed figure, credit negative, for short assertions."""
    credit: str = row["closing_credit"]
    return row["closing_debit"] if credit == "0.00" else f"-{credit}"
