"""Reports on one known set of books, in JSON and CSV: an account's balance and ledger, the
trial balance, and the statements of profit or loss and of financial position.

The statements add up every account in the database, so this module takes a database of its
own, writes one story of two years into it once, and only reads afterwards:

    2029  01-05  bank 9,000 from capital            2030  01-03  rent 150 from bank
          03-10  receivables 3,000 from sales             01-15  bank 2,000 from receivables
          03-20  rent 1,000 from bank                     02-10  receivables 5,000 from sales
          12-31  rent 200 accrued in payables             02-12  cost of sales 2,000 in payables
                                                          02-15  rent 500 from bank, reversed
                                                          03-05  equipment 4,000 on loan
    and neither a draft (rent 999) nor an entry           03-31  interest 100 from bank
    awaiting approval (equipment 20,000) counts.          04-02  other income 300 into bank
                                                          04-20  tax 200 in payables
"""

from datetime import date
from typing import Any

import pytest

from tests.modules.ledger.books import (
    CHART,
    Books,
    Json,
    Office,
    assert_problem,
    created,
    csv_rows,
    office_of_its_own,
)

office = office_of_its_own()


@pytest.fixture(scope="module")
async def story(office: Office) -> Books:
    books = await office.new_books(*CHART)
    assert books.year == 2030
    await books.open_year(date(2029, 1, 1))
    for day, debit, credit, amount in [
        ("2029-01-05", "bank", "capital", "9000.00"),
        ("2029-03-10", "receivables", "sales", "3000.00"),
        ("2029-03-20", "rent", "bank", "1000.00"),
        ("2029-12-31", "rent", "payables", "200.00"),
        ("2030-01-03", "rent", "bank", "150.00"),
        ("2030-01-15", "bank", "receivables", "2000.00"),
        ("2030-02-10", "receivables", "sales", "5000.00"),
        ("2030-02-12", "cost_of_sales", "payables", "2000.00"),
    ]:
        await books.transfer(debit, credit, amount, on=day)
    mistake = await books.transfer("rent", "bank", "500.00", on="2030-02-15")
    created(await books.act(mistake["id"], "reverse", books.cast.accountant))
    for day, debit, credit, amount in [
        ("2030-03-05", "equipment", "loan", "4000.00"),
        ("2030-03-31", "interest", "bank", "100.00"),
        ("2030-04-02", "bank", "other_income", "300.00"),
        ("2030-04-20", "tax", "payables", "200.00"),
    ]:
        await books.transfer(debit, credit, amount, on=day)
    created(
        await books.create(
            books.debit("rent", "999.00"), books.credit("bank", "999.00"), on="2030-02-01"
        )
    )
    waiting = await books.create(
        books.debit("equipment", "20000.00"),
        books.credit("loan", "20000.00"),
        on="2030-03-10",
        post=True,
    )
    assert created(waiting)["status"] == "pending_approval"
    return books


def figures(statement: Json, column: str = "amount") -> dict[str, str]:
    return {line["key"]: line[column] for line in statement["lines"]}


def as_text(rows: list[Json]) -> list[dict[str, str]]:
    return [{key: str(value) for key, value in row.items()} for row in rows]


async def csv_of(books: Books, path: str, **params: Any) -> list[dict[str, str]]:
    response = await books.client.get(
        f"/api/v1/ledger{path}",
        params={**params, "format": "csv"},
        headers=books.cast.auditor.headers,
    )
    return csv_rows(response)


# An account's balance


async def test_an_account_balance_counts_posted_entries_up_to_the_day(story: Books) -> None:
    bank = f"/accounts/{story.id('bank')}/balance"

    at_year_end = await story.read(bank, as_of="2030-12-31")
    before = await story.read(bank, as_of="2029-12-31")
    at_start = await story.read(bank, as_of="2029-01-04")

    assert at_year_end == {
        "account_code": story.code("bank"),
        "as_of": "2030-12-31",
        "currency": "MYR",
        "debit": "11800.00",
        "credit": "1750.00",
        "balance": "10050.00",
    }
    assert before["balance"] == "8000.00"
    assert at_start["balance"] == "0.00"


async def test_a_balance_is_positive_on_the_account_s_normal_side(story: Books) -> None:
    balances = {
        name: await story.balance(name, "2030-12-31")
        for name in ("payables", "capital", "sales", "rent", "equipment")
    }

    assert balances == {
        "payables": "2400.00",
        "capital": "9000.00",
        "sales": "8000.00",
        "rent": "1350.00",
        "equipment": "4000.00",  # the 20,000.00 awaiting approval is not in it
    }


async def test_an_account_balance_comes_as_csv(story: Books) -> None:
    path = f"/accounts/{story.id('bank')}/balance"

    rows = await csv_of(story, path, as_of="2030-12-31")

    assert rows == as_text([await story.read(path, as_of="2030-12-31")])


async def test_the_balance_of_an_unknown_account_is_not_found(story: Books) -> None:
    response = await story.client.get(
        "/api/v1/ledger/accounts/00000000-0000-0000-0000-000000000000/balance",
        params={"as_of": "2030-12-31"},
        headers=story.cast.auditor.headers,
    )

    assert_problem(response, 404, "ACCOUNT_NOT_FOUND")


# An account's ledger

BANK_LINES = [
    ("2029-01-05", "9000.00", "0.00", "9000.00"),
    ("2029-03-20", "0.00", "1000.00", "8000.00"),
    ("2030-01-03", "0.00", "150.00", "7850.00"),
    ("2030-01-15", "2000.00", "0.00", "9850.00"),
    ("2030-02-15", "0.00", "500.00", "9350.00"),
    ("2030-02-15", "500.00", "0.00", "9850.00"),
    ("2030-03-31", "0.00", "100.00", "9750.00"),
    ("2030-04-02", "300.00", "0.00", "10050.00"),
]


def ledger_lines(page: Json) -> list[tuple[str, str, str, str]]:
    return [
        (line["entry_date"], line["debit"], line["credit"], line["running_balance"])
        for line in page["data"]
    ]


async def test_an_account_ledger_lists_posted_lines_with_a_running_balance(
    story: Books,
) -> None:
    page = await story.read(f"/accounts/{story.id('bank')}/ledger")

    assert (page["account_code"], page["currency"]) == (story.code("bank"), "MYR")
    assert page["opening_balance"] == "0.00"
    assert ledger_lines(page) == BANK_LINES
    assert page["next_cursor"] is None
    mistake, reversal = page["data"][4], page["data"][5]
    assert (mistake["entry_number"], reversal["entry_number"]) == (
        "JE-2030-000005",
        "JE-2030-000006",
    )
    assert reversal["description"] == "Reversal of JE-2030-000005"


async def test_an_account_ledger_pages_on_with_a_continuous_running_balance(
    story: Books,
) -> None:
    path = f"/accounts/{story.id('bank')}/ledger"
    pages = [await story.read(path, size=3)]
    while pages[-1]["next_cursor"]:
        pages.append(await story.read(path, size=3, cursor=pages[-1]["next_cursor"]))

    assert [len(page["data"]) for page in pages] == [3, 3, 2]
    assert [line for page in pages for line in ledger_lines(page)] == BANK_LINES
    assert [page["opening_balance"] for page in pages] == ["0.00", "7850.00", "9850.00"]


async def test_an_account_ledger_from_a_date_opens_with_the_balance_before_it(
    story: Books,
) -> None:
    page = await story.read(
        f"/accounts/{story.id('bank')}/ledger", start="2030-01-01", end="2030-03-31"
    )

    assert page["opening_balance"] == "8000.00"
    assert ledger_lines(page) == BANK_LINES[2:7]


async def test_an_account_ledger_comes_as_csv(story: Books) -> None:
    path = f"/accounts/{story.id('bank')}/ledger"

    rows = await csv_of(story, path)

    assert rows == as_text((await story.read(path))["data"])
    assert [row["running_balance"] for row in rows][-1] == "10050.00"


async def test_a_cursor_not_given_out_by_the_api_is_refused(story: Books) -> None:
    response = await story.client.get(
        f"/api/v1/ledger/accounts/{story.id('bank')}/ledger",
        params={"cursor": "not-a-cursor"},
        headers=story.cast.auditor.headers,
    )

    assert_problem(response, 422, "INVALID_INPUT")


# The trial balance


def rows_by_code(story: Books, report: Json) -> dict[str, tuple[str, ...]]:
    """(opening debit, opening credit, debits, credits, closing debit, closing credit)."""
    return {
        row["account_code"].removeprefix(story.prefix): tuple(row[column] for column in COLUMNS)
        for row in report["rows"]
    }


COLUMNS = (
    "opening_debit",
    "opening_credit",
    "debits",
    "credits",
    "closing_debit",
    "closing_credit",
)
NONE = "0.00"


async def test_the_trial_balance_since_the_beginning_balances(story: Books) -> None:
    report = await story.trial_balance(end="2030-12-31")

    assert (report["start_date"], report["end_date"], report["currency"]) == (
        None,
        "2030-12-31",
        "MYR",
    )
    assert (report["total_debits"], report["total_credits"]) == ("27950.00", "27950.00")
    assert (report["total_opening_debit"], report["total_opening_credit"]) == (NONE, NONE)
    assert (report["total_closing_debit"], report["total_closing_credit"]) == (
        "23700.00",
        "23700.00",
    )
    assert rows_by_code(story, report) == {
        "1010": (NONE, NONE, "11800.00", "1750.00", "10050.00", NONE),
        "1100": (NONE, NONE, "8000.00", "2000.00", "6000.00", NONE),
        "1500": (NONE, NONE, "4000.00", NONE, "4000.00", NONE),
        "2000": (NONE, NONE, NONE, "2400.00", NONE, "2400.00"),
        "2500": (NONE, NONE, NONE, "4000.00", NONE, "4000.00"),
        "3000": (NONE, NONE, NONE, "9000.00", NONE, "9000.00"),
        "4000": (NONE, NONE, NONE, "8000.00", NONE, "8000.00"),
        "4100": (NONE, NONE, NONE, "300.00", NONE, "300.00"),
        "5000": (NONE, NONE, "2000.00", NONE, "2000.00", NONE),
        "6000": (NONE, NONE, "1850.00", "500.00", "1350.00", NONE),
        "7000": (NONE, NONE, "100.00", NONE, "100.00", NONE),
        "8000": (NONE, NONE, "200.00", NONE, "200.00", NONE),
    }  # cash, never used, has no row
    assert {row["normal_balance"] for row in report["rows"] if row["type"] == "equity"} == {
        "credit"
    }


async def test_the_trial_balance_of_a_year_opens_with_the_balances_before_it(
    story: Books,
) -> None:
    report = await story.trial_balance(start="2030-01-01", end="2030-12-31")

    rows = rows_by_code(story, report)
    assert (report["total_debits"], report["total_credits"]) == ("14750.00", "14750.00")
    assert (report["total_opening_debit"], report["total_opening_credit"]) == (
        "12200.00",
        "12200.00",
    )
    assert (report["total_closing_debit"], report["total_closing_credit"]) == (
        "23700.00",
        "23700.00",
    )
    assert rows["1010"] == ("8000.00", NONE, "2800.00", "750.00", "10050.00", NONE)
    assert rows["2000"] == (NONE, "200.00", NONE, "2200.00", NONE, "2400.00")
    assert rows["3000"] == (NONE, "9000.00", NONE, NONE, NONE, "9000.00")
    assert rows["6000"] == ("1200.00", NONE, "650.00", "500.00", "1350.00", NONE)


async def test_the_trial_balance_comes_as_csv_with_debit_and_credit_columns(
    story: Books,
) -> None:
    rows = await csv_of(story, "/reports/trial-balance", start="2030-01-01", end="2030-12-31")

    report = await story.trial_balance(start="2030-01-01", end="2030-12-31")
    assert rows[:-1] == as_text(report["rows"])
    assert list(rows[0])[-6:] == list(COLUMNS)
    assert rows[-1] == {
        "account_code": "",
        "account_name": "Total",
        "type": "",
        "normal_balance": "",
        **{column: report[f"total_{column}"] for column in COLUMNS},
    }
    assert not any(value.startswith("-") for row in rows for value in row.values())


# The statement of profit or loss

PROFIT_OR_LOSS_2030 = {
    "revenue": "5000.00",
    "cost_of_sales": "2000.00",
    "other_income": "300.00",
    "operating_expense": "150.00",
    "finance_cost": "100.00",
    "tax_expense": "200.00",
    "profit": "2850.00",
}
PROFIT_OR_LOSS_2029 = {
    "revenue": "3000.00",
    "cost_of_sales": "0.00",
    "other_income": "0.00",
    "operating_expense": "1200.00",
    "finance_cost": "0.00",
    "tax_expense": "0.00",
    "profit": "1800.00",
}


async def test_profit_or_loss_by_mfrs_class_beside_the_year_before(story: Books) -> None:
    statement = await story.read("/reports/profit-or-loss", start="2030-01-01", end="2030-12-31")

    assert statement["title"] == "Statement of profit or loss"
    assert statement["currency"] == "MYR"
    assert statement["period"] == "2030-01-01 to 2030-12-31"
    assert statement["comparative_period"] == "2029-01-01 to 2029-12-31"
    assert figures(statement) == PROFIT_OR_LOSS_2030
    assert figures(statement, "comparative") == PROFIT_OR_LOSS_2029


async def test_a_reversed_entry_leaves_no_trace_in_profit(story: Books) -> None:
    statement = await story.read("/reports/profit-or-loss", start="2030-02-01", end="2030-02-28")

    assert figures(statement)["operating_expense"] == "0.00"
    assert figures(statement)["profit"] == "3000.00"


async def test_the_comparative_of_a_month_is_the_month_before(story: Books) -> None:
    statement = await story.read("/reports/profit-or-loss", start="2030-02-01", end="2030-02-28")

    assert statement["comparative_period"] == "2030-01-01 to 2030-01-31"
    assert figures(statement, "comparative")["operating_expense"] == "150.00"


async def test_profit_or_loss_comes_as_csv(story: Books) -> None:
    params = {"start": "2030-01-01", "end": "2030-12-31"}

    rows = await csv_of(story, "/reports/profit-or-loss", **params)

    statement = await story.read("/reports/profit-or-loss", **params)
    assert rows == as_text(statement["lines"])
    assert {row["key"]: row["amount"] for row in rows} == PROFIT_OR_LOSS_2030


async def test_profit_or_loss_without_dates_needs_a_fiscal_year_holding_today(
    story: Books,
) -> None:
    response = await story.client.get(
        "/api/v1/ledger/reports/profit-or-loss", headers=story.cast.auditor.headers
    )

    body = assert_problem(response, 422, "NO_FISCAL_YEAR")
    assert "start and end" in body["detail"]


async def test_profit_or_loss_needs_the_end_after_the_start(story: Books) -> None:
    response = await story.client.get(
        "/api/v1/ledger/reports/profit-or-loss",
        params={"start": "2030-12-31", "end": "2030-01-01"},
        headers=story.cast.auditor.headers,
    )

    assert_problem(response, 422, "INVALID_INPUT")


# The statement of financial position


async def test_financial_position_balances_with_the_year_s_profit_in_equity(
    story: Books,
) -> None:
    statement = await story.read("/reports/financial-position", as_of="2030-12-31")

    assert statement["title"] == "Statement of financial position"
    assert statement["period"] == "as at 2030-12-31"
    assert statement["comparative_period"] == "as at 2029-12-31"
    assert figures(statement) == {
        "non_current_asset": "4000.00",
        "current_asset": "16050.00",
        "total_assets": "20050.00",
        "equity": "9000.00",
        "unclosed_prior_profit": "1800.00",
        "current_year_profit": "2850.00",
        "total_equity": "13650.00",
        "non_current_liability": "4000.00",
        "current_liability": "2400.00",
        "total_liabilities": "6400.00",
        "total_equity_and_liabilities": "20050.00",
    }
    assert figures(statement, "comparative") == {
        "non_current_asset": "0.00",
        "current_asset": "11000.00",
        "total_assets": "11000.00",
        "equity": "9000.00",
        "unclosed_prior_profit": "0.00",
        "current_year_profit": "1800.00",
        "total_equity": "10800.00",
        "non_current_liability": "0.00",
        "current_liability": "200.00",
        "total_liabilities": "200.00",
        "total_equity_and_liabilities": "11000.00",
    }


@pytest.mark.parametrize("as_of", ["2029-03-15", "2030-01-31", "2030-02-15", "2030-04-30"])
async def test_assets_equal_equity_and_liabilities_on_any_day(story: Books, as_of: str) -> None:
    statement = await story.read("/reports/financial-position", as_of=as_of)

    for column in ("amount", "comparative"):
        lines = figures(statement, column)
        assert lines["total_assets"] == lines["total_equity_and_liabilities"]


async def test_financial_position_compares_with_a_chosen_day(story: Books) -> None:
    statement = await story.read(
        "/reports/financial-position", as_of="2030-12-31", compare_to="2030-02-28"
    )

    assert statement["comparative_period"] == "as at 2030-02-28"
    comparative = figures(statement, "comparative")
    assert comparative["current_asset"] == "15850.00"
    assert comparative["current_year_profit"] == "2850.00"
    assert comparative["current_liability"] == "2200.00"
    assert comparative["total_assets"] == comparative["total_equity_and_liabilities"]


async def test_financial_position_comes_as_csv(story: Books) -> None:
    rows = await csv_of(story, "/reports/financial-position", as_of="2030-12-31")

    statement = await story.read("/reports/financial-position", as_of="2030-12-31")
    assert rows == as_text(statement["lines"])
    assert [row["key"] for row in rows][-1] == "total_equity_and_liabilities"
