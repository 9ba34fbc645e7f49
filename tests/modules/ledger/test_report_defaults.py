"""Reports without dates: the trial balance up to today, profit or loss for the current fiscal
year to date, the financial position as at today; and downloads named after report and dates."""

from datetime import UTC, date, datetime

import pytest

from tests.modules.ledger.books import Books, Office, csv_rows, office_of_its_own


def today() -> date:
    return datetime.now(UTC).date()


# A database of its own, holding the fiscal year of today.
office = office_of_its_own()


@pytest.fixture(scope="module")
async def books(office: Office) -> Books:
    """This calendar year's books: sales of 100 today, and 7 more on the year's last day when
    that is still to come (in the year, not yet to date)."""
    books = await office.new_books("bank", "capital", "sales", "rent")
    books.year = today().year
    books.fiscal_year = await books.open_year(date(books.year, 1, 1))
    await books.transfer("bank", "sales", "100.00", on=today().isoformat())
    if today() < date(books.year, 12, 31):
        await books.transfer("bank", "sales", "7.00", on=books.day(12, 31))
    return books


async def test_the_trial_balance_runs_to_today_by_default(books: Books) -> None:
    report = await books.read("/reports/trial-balance")

    assert report == await books.read("/reports/trial-balance", end=today().isoformat())
    assert report["end_date"] == today().isoformat()
    sales = next(row for row in report["rows"] if row["account_code"] == books.code("sales"))
    assert sales["credits"] == "100.00"


async def test_profit_or_loss_covers_the_fiscal_year_to_date_by_default(books: Books) -> None:
    statement = await books.read("/reports/profit-or-loss")

    start = date(books.year, 1, 1).isoformat()
    assert (statement["start_date"], statement["end_date"]) == (start, today().isoformat())
    assert statement["period"] == f"{start} to {today()}"
    assert {line["key"]: line["amount"] for line in statement["lines"]}["revenue"] == "100.00"


async def test_profit_or_loss_from_a_start_runs_to_today(books: Books) -> None:
    start = today().replace(day=1).isoformat()

    statement = await books.read("/reports/profit-or-loss", start=start)

    assert (statement["start_date"], statement["end_date"]) == (start, today().isoformat())


async def test_profit_or_loss_up_to_an_end_starts_with_its_fiscal_year(books: Books) -> None:
    statement = await books.read("/reports/profit-or-loss", end=books.day(12, 31))

    assert statement["start_date"] == books.day(1, 1)
    revenue = {line["key"]: line["amount"] for line in statement["lines"]}["revenue"]
    assert revenue == ("100.00" if today() == date(books.year, 12, 31) else "107.00")


async def test_the_financial_position_is_as_at_today_by_default(books: Books) -> None:
    statement = await books.read("/reports/financial-position")

    assert (statement["start_date"], statement["end_date"]) == (None, today().isoformat())
    assert statement["period"] == f"as at {today()}"
    assert statement == await books.read("/reports/financial-position", as_of=today().isoformat())


@pytest.mark.parametrize(
    ("path", "params", "filename"),
    [
        (
            "/reports/profit-or-loss",
            {"start": "2020-01-01", "end": "2020-12-31"},
            "profit-or-loss_2020-01-01_2020-12-31.csv",
        ),
        (
            "/reports/financial-position",
            {"as_of": "2020-12-31"},
            "financial-position_2020-12-31.csv",
        ),
        (
            "/reports/trial-balance",
            {"start": "2020-01-01", "end": "2020-06-30"},
            "trial-balance_2020-01-01_2020-06-30.csv",
        ),
        ("/reports/trial-balance", {"end": "2020-06-30"}, "trial-balance_2020-06-30.csv"),
    ],
)
async def test_downloads_are_named_after_the_report_and_its_dates(
    books: Books, path: str, params: dict[str, str], filename: str
) -> None:
    response = await books.client.get(
        f"/api/v1/ledger{path}",
        params={**params, "format": "csv"},
        headers=books.cast.auditor.headers,
    )

    csv_rows(response)
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'


async def test_a_default_download_is_named_after_the_dates_it_took(books: Books) -> None:
    response = await books.client.get(
        "/api/v1/ledger/reports/profit-or-loss",
        params={"format": "csv"},
        headers=books.cast.auditor.headers,
    )

    name = f"profit-or-loss_{date(books.year, 1, 1)}_{today()}.csv"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
