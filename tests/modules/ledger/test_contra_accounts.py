"""Contra accounts carry the opposite normal balance of their type and are deducted within their
MFRS class in the statements; the default chart marks its own (accumulated depreciation, the
allowance for impairment, sales returns)."""

import pytest

from tests.modules.ledger.books import (
    ACCOUNTS,
    Books,
    Json,
    Office,
    assert_problem,
    created,
    office_of_its_own,
)

# A database of its own: the statements add up every account in it, and the default chart
# goes in once.
office = office_of_its_own()


@pytest.fixture
async def books(office: Office) -> Books:
    """Equipment at cost less accumulated depreciation, sales less returns."""
    books = await office.new_books("bank", "capital", "equipment", "sales", "rent")
    books.accounts["depreciation"] = await books.add_account(
        books.prefix + "1590", "asset", "non_current_asset", is_contra=True
    )
    books.accounts["returns"] = await books.add_account(
        books.prefix + "4090", "income", "revenue", is_contra=True
    )
    await books.transfer("equipment", "bank", "5000.00", on=books.day(1, 10))
    await books.transfer("rent", "depreciation", "1000.00", on=books.day(12, 31))
    await books.transfer("bank", "sales", "900.00", on=books.day(3, 1))
    await books.transfer("returns", "bank", "100.00", on=books.day(3, 9))
    return books


async def test_a_contra_account_has_the_opposite_normal_balance_of_its_type(
    books: Books,
) -> None:
    depreciation, returns = books.accounts["depreciation"], books.accounts["returns"]

    assert (depreciation["is_contra"], depreciation["normal_balance"]) == (True, "credit")
    assert (returns["is_contra"], returns["normal_balance"]) == (True, "debit")
    assert (
        books.accounts["equipment"]["is_contra"],
        books.accounts["equipment"]["normal_balance"],
    ) == (
        False,
        "debit",
    )


async def test_a_contra_account_s_balance_is_positive_on_its_normal_side(books: Books) -> None:
    assert await books.balances("depreciation", "returns") == {
        "depreciation": "1000.00",
        "returns": "100.00",
    }
    ledger = await books.read(f"/accounts/{books.id('depreciation')}/ledger")
    assert [line["running_balance"] for line in ledger["data"]] == ["1000.00"]


async def test_contra_accounts_are_deducted_in_the_statements(books: Books) -> None:
    before = await books.read("/reports/financial-position", as_of=books.day(1, 9))
    position = await books.read("/reports/financial-position", as_of=books.day(12, 31))
    profit = await books.read(
        "/reports/profit-or-loss", start=books.day(1, 1), end=books.day(12, 31)
    )

    added = float(lines(position)["non_current_asset"]) - float(lines(before)["non_current_asset"])
    assert added == 4000.00  # cost less accumulated depreciation
    assert lines(profit)["revenue"] == "800.00"  # sales less returns
    assert lines(position)["total_assets"] == lines(position)["total_equity_and_liabilities"]


async def test_the_trial_balance_puts_a_contra_balance_in_its_own_column(books: Books) -> None:
    report = await books.trial_balance(start=books.day(1, 1))

    rows = {row["account_code"]: row for row in report["rows"]}
    depreciation = rows[books.code("depreciation")]
    returns = rows[books.code("returns")]
    assert (depreciation["normal_balance"], depreciation["closing_credit"]) == (
        "credit",
        "1000.00",
    )
    assert (returns["normal_balance"], returns["closing_debit"]) == ("debit", "100.00")
    assert report["total_closing_debit"] == report["total_closing_credit"]


async def test_an_account_becomes_contra_and_back(books: Books) -> None:
    path = f"{ACCOUNTS}/{books.id('depreciation')}"
    headers = books.cast.accountant.headers

    plain = created(await books.client.patch(path, json={"is_contra": False}, headers=headers), 200)
    null = await books.client.patch(path, json={"is_contra": None}, headers=headers)
    again = created(await books.client.patch(path, json={"is_contra": True}, headers=headers), 200)

    assert (plain["is_contra"], plain["normal_balance"]) == (False, "debit")
    assert_problem(null, 422, "VALIDATION_FAILED")
    assert (again["is_contra"], again["normal_balance"]) == (True, "credit")
    assert await books.balance("depreciation") == "1000.00"


async def test_the_default_chart_marks_its_contra_accounts(office: Office) -> None:
    books = await office.new_books("bank")
    loaded = await books.client.post(
        f"{ACCOUNTS}/default-chart", headers=books.cast.accountant.headers
    )
    created(loaded)

    chart = {
        account["code"]: account
        for account in (await books.read("/accounts", size=500))["data"]
        if not account["code"].startswith("K")
    }

    contra = {
        code: account["normal_balance"] for code, account in chart.items() if account["is_contra"]
    }
    assert contra == {"1090": "credit", "1110": "credit", "1610": "credit", "4090": "debit"}
    normal = {
        "asset": "debit",
        "expense": "debit",
        "liability": "credit",
        "equity": "credit",
        "income": "credit",
    }
    assert all(
        account["normal_balance"] == normal[account["type"]]
        for account in chart.values()
        if not account["is_contra"]
    )


def lines(statement: Json) -> dict[str, str]:
    return {line["key"]: line["amount"] for line in statement["lines"]}
