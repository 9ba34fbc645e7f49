"""Input at the ledger's edges: each a 422 naming its field, never a 500, nothing written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.modules.ledger.books import ENTRIES, LEDGER, Books, assert_problem, created

MAX_LINE = "99999999999.99"  # the largest MYR line: 10^13 - 1 minor units
HUGE = "999999999999999.99"  # 93 lines of it once overflowed the day's balance


def fields_named(response: httpx.Response) -> set[str]:
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    return {error["field"] for error in body["errors"]}


async def test_a_draft_without_lines_is_refused_naming_lines(books: Books) -> None:
    before = await books.snapshot()
    draft = created(await books.create(books.debit("cash", "1.00")))

    made = await books.create()
    replaced = await books.client.put(
        f"{ENTRIES}/{draft['id']}",
        json=books.entry(),
        headers=books.cast.accountant.headers,
    )

    assert fields_named(made) == {"body.lines"}
    assert fields_named(replaced) == {"body.lines"}
    assert (await books.get_entry(draft["id"]))["lines"][0]["amount"] == "1.00"
    assert (await books.snapshot()).entries == before.entries + 1


@pytest.mark.parametrize("listing", ["/entries", "/accounts"])
async def test_a_page_beyond_64_bits_is_refused(books: Books, listing: str) -> None:
    response = await books.client.get(
        f"{LEDGER}{listing}",
        params={"page": "9223372036854775808"},
        headers=books.cast.auditor.headers,
    )

    assert fields_named(response) == {"query.page"}


@pytest.mark.parametrize("start", ["9999-12-01", "2999-02-01", "1899-12-01"])
async def test_a_fiscal_year_outside_the_date_range_is_refused(books: Books, start: str) -> None:
    response = await books.client.post(
        f"{LEDGER}/fiscal-years",
        json={"start_date": start},
        headers=books.cast.controller.headers,
    )

    assert fields_named(response) == {"body.start_date"}


@pytest.mark.parametrize(
    ("report", "params"),
    [
        ("/reports/trial-balance", {"end": "0001-01-01"}),
        ("/reports/trial-balance", {"start": "0001-01-01", "end": "2030-01-01"}),
        ("/reports/profit-or-loss", {"start": "0001-01-01", "end": "0001-12-31"}),
        ("/reports/profit-or-loss", {"start": "2030-01-01", "end": "9999-12-31"}),
        ("/reports/financial-position", {"as_of": "0001-01-01"}),
        ("/reports/financial-position", {"as_of": "2030-01-01", "compare_to": "0001-01-01"}),
    ],
)
async def test_report_dates_outside_the_range_are_refused(
    books: Books, report: str, params: dict[str, str]
) -> None:
    response = await books.client.get(
        f"{LEDGER}{report}", params=params, headers=books.cast.auditor.headers
    )

    assert fields_named(response) <= {f"query.{name}" for name in params}
    assert fields_named(response)


async def test_the_widest_profit_or_loss_still_answers(books: Books) -> None:
    statement = await books.read("/reports/profit-or-loss", start="1900-01-01", end="2999-12-31")

    assert statement["comparative_period"].endswith("1899-12-31")


@pytest.mark.parametrize(
    ("where", "params"),
    [
        ("/entries", {"start": "0"}),
        ("/entries", {"end": "20300101"}),
        ("/exchange-rates", {"on": "1"}),
        ("/reports/financial-position", {"as_of": "0"}),
        ("/accounts", {"is_active": "0"}),
        ("/accounts", {"is_active": "yes"}),
    ],
)
async def test_dates_and_flags_in_queries_are_strict(
    books: Books, where: str, params: dict[str, str]
) -> None:
    response = await books.client.get(
        f"{LEDGER}{where}", params=params, headers=books.cast.auditor.headers
    )

    assert fields_named(response) == {f"query.{name}" for name in params}


@pytest.mark.parametrize(
    ("field", "value"), [("entry_date", 0), ("entry_date", "2030/01/15"), ("post", 0)]
)
async def test_dates_and_flags_in_bodies_are_strict(books: Books, field: str, value: Any) -> None:
    before = await books.snapshot()
    entry = books.entry(books.debit("cash", "1.00"), books.credit("capital", "1.00"))
    body = {**entry, field: value}

    response = await books.client.post(ENTRIES, json=body, headers=books.cast.keeper.headers)

    assert fields_named(response) == {f"body.{field}"}
    assert await books.snapshot() == before


async def test_a_line_above_the_maximum_is_refused_naming_it(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "100000000000.00"), books.credit("capital", "100000000000.00")
    )
    huge = await books.create(books.debit("cash", HUGE), books.credit("capital", HUGE))

    assert fields_named(response) == {"body.lines.0.amount", "body.lines.1.amount"}
    assert fields_named(huge) == {"body.lines.0.amount", "body.lines.1.amount"}
    assert await books.snapshot() == before


async def test_a_foreign_line_above_the_maximum_once_converted_is_refused(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", MAX_LINE, currency="USD", rate="4.5"),
        books.credit("capital", "1.00"),
    )

    assert_problem(response, 422, "INVALID_AMOUNT")
    assert await books.snapshot() == before


async def test_many_maximum_lines_on_one_account_and_day_add_up_exactly(books: Books) -> None:
    lines = 250  # per side: one entry of 500 lines, the most an entry has
    entries = 4
    batch = [
        books.entry(
            *(books.debit("cash", MAX_LINE) for _ in range(lines)),
            *(books.credit("capital", MAX_LINE) for _ in range(lines)),
            on=books.day(3, 3),
        )
        for _ in range(entries)
    ]

    response = await books.client.post(
        f"{ENTRIES}/batch", json=batch, headers=books.cast.keeper.headers
    )

    assert response.status_code == 201, response.text
    made: list[dict[str, Any]] = response.json()
    for entry in made:
        assert entry["status"] == "pending_approval"
        created(await books.act(entry["id"], "approve", by=books.cast.controller), 200)
    expected = str(Decimal(MAX_LINE) * lines * entries)
    assert await books.balance("cash") == expected
    rows = {row["account_code"]: row for row in (await books.trial_balance())["rows"]}
    assert rows[books.code("cash")]["closing_debit"] == expected
    assert rows[books.code("capital")]["closing_credit"] == expected
