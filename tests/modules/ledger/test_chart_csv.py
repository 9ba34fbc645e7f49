"""The chart as CSV: the default Malaysian chart, imports (all rows or none, every error naming
its line) and the export in the import's own format."""

from typing import Any

import httpx
import pytest

from tests.modules.ledger.books import (
    ACCOUNTS,
    Books,
    Office,
    assert_problem,
    created,
    csv_rows,
    office_of_its_own,
)

HEADER = "code,name,type,mfrs_class,parent_code,currency,is_contra"
DEFAULT_CHART_SIZE = 91


# A database of its own: the default chart goes in once, and the export lists it all.
office = office_of_its_own()


@pytest.fixture
async def books(office: Office) -> Books:
    return await office.new_books("bank")


async def load(books: Books, text: str | bytes, **headers: str) -> httpx.Response:
    return await books.client.post(
        f"{ACCOUNTS}/import",
        content=text.encode() if isinstance(text, str) else text,
        headers={**books.cast.accountant.headers, "Content-Type": "text/csv", **headers},
    )


async def chart_size(books: Books) -> int:
    return int((await books.read("/accounts", size=1))["count"])


async def account(books: Books, code: str) -> dict[str, Any]:
    found = (await books.read("/accounts", q=code))["data"]
    return next(row for row in found if row["code"] == code)


def csv_of(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


async def test_the_default_chart_loads_once(books: Books) -> None:
    before = await chart_size(books)

    first = await books.client.post(
        f"{ACCOUNTS}/default-chart", headers=books.cast.accountant.headers
    )
    again = await books.client.post(
        f"{ACCOUNTS}/default-chart", headers=books.cast.accountant.headers
    )

    assert created(first) == {"loaded": DEFAULT_CHART_SIZE}
    assert await chart_size(books) == before + DEFAULT_CHART_SIZE
    body = assert_problem(again, 409, "ACCOUNT_CODE_TAKEN")
    assert body["detail"].startswith("Line 2: ")
    assert await chart_size(books) == before + DEFAULT_CHART_SIZE
    depreciation = await account(books, "1090")
    assert (depreciation["parent_code"], depreciation["normal_balance"]) == ("1000", "credit")


async def test_an_import_adds_every_row_with_parents_anywhere_in_the_file(books: Books) -> None:
    p = books.prefix
    text = csv_of(
        f"{p}1510,Petty cash,asset,current_asset,{p}1500,MYR,false",
        f"{p}1500,Cash,asset,current_asset,,,",
        f"{p}1590,Allowance for impairment,asset,current_asset,{p}1500,,TRUE",
    )

    response = await load(books, text)

    assert created(response) == {"loaded": 3}
    petty, cash, allowance = [await account(books, p + code) for code in ("1510", "1500", "1590")]
    assert (petty["parent_code"], petty["currency"], petty["is_contra"]) == (
        p + "1500",
        "MYR",
        False,
    )
    assert (cash["is_header"], cash["parent_code"]) == (True, None)
    assert (allowance["is_contra"], allowance["normal_balance"]) == (True, "credit")


async def test_a_file_from_before_contra_accounts_still_loads(books: Books) -> None:
    text = csv_of(
        f"{books.prefix}2100,Accruals,liability,current_liability,,",
        header="code,name,type,mfrs_class,parent_code,currency",
    )

    assert created(await load(books, text)) == {"loaded": 1}
    assert (await account(books, books.prefix + "2100"))["is_contra"] is False


async def test_the_export_is_the_chart_in_the_import_s_format(books: Books) -> None:
    p = books.prefix
    text = csv_of(
        f"{p}4000,Revenue,income,revenue,,,false",
        f"{p}4010,Sales,income,revenue,{p}4000,,false",
        f"{p}4090,Sales returns,income,revenue,{p}4000,,true",
        f'{p}6000,"Rent, utilities",expense,operating_expense,,USD,false',
    )
    created(await load(books, text))

    response = await books.client.get(f"{ACCOUNTS}/export", headers=books.cast.auditor.headers)

    assert response.headers["content-disposition"] == 'attachment; filename="chart-of-accounts.csv"'
    assert response.text.splitlines()[0] == HEADER
    mine = [line for line in response.text.splitlines() if line.startswith((p + "4", p + "6"))]
    assert "\n".join([HEADER, *mine]) + "\n" == text
    assert len(csv_rows(response)) == await chart_size(books)


async def test_an_exported_chart_loads_again_as_it_was(books: Books, office: Office) -> None:
    p, other = books.prefix, (await office.new_books("bank")).prefix
    created(
        await load(
            books,
            csv_of(
                f"{p}1500,Plant,asset,non_current_asset,,,false",
                f"{p}1590,Accumulated depreciation,asset,non_current_asset,{p}1500,,true",
            ),
        )
    )
    exported = await books.client.get(f"{ACCOUNTS}/export", headers=books.cast.auditor.headers)
    mine = [line for line in exported.text.splitlines() if line.startswith(p + "15")]

    copied = await load(books, csv_of(*[line.replace(p, other) for line in mine]))

    assert created(copied) == {"loaded": 2}
    copy = await account(books, other + "1590")
    assert (copy["parent_code"], copy["is_contra"], copy["normal_balance"]) == (
        other + "1500",
        True,
        "credit",
    )


ASSET = "{p}1,A,asset,current_asset,,,"  # a good row
UNDER = "{p}2,B,asset,current_asset,{parent},,"  # a good row, under `parent`
BAD_FILES = {
    "no header": ("", "INVALID_ACCOUNT", "columns"),
    "a missing column": (HEADER.rsplit(",", 2)[0] + "\n", "INVALID_ACCOUNT", "columns"),
    "a column twice": (HEADER + ",code\n", "INVALID_ACCOUNT", "columns"),
    "an unknown column": (HEADER + ",colour\n", "INVALID_ACCOUNT", "columns"),
    "more values than columns": (csv_of(ASSET + "false,x"), "INVALID_ACCOUNT", "Line 2"),
    "a bad type": (csv_of("{p}1,A,assets,current_asset,,,"), "INVALID_ACCOUNT", "Line 2, type"),
    "a bad code": (csv_of(ASSET, "?x,B,asset,current_asset,,,"), "INVALID_ACCOUNT", "Line 3, code"),
    "a missing name": (csv_of("{p}1,,asset,current_asset,,,"), "INVALID_ACCOUNT", "Line 2, name"),
    "a bad contra flag": (csv_of(ASSET + "maybe"), "INVALID_ACCOUNT", "Line 2, is_contra"),
    "a class of another type": (csv_of("{p}1,A,asset,revenue,,,"), "INVALID_ACCOUNT", "Line 2"),
    "an unknown currency": (
        csv_of("{p}1,A,asset,current_asset,,QQQ,"),
        "UNKNOWN_CURRENCY",
        "Line 2",
    ),
    "an unknown parent": (
        csv_of(ASSET, UNDER.replace("{parent}", "{p}9")),
        "INVALID_ACCOUNT",
        "Line 3: parent {p}9",
    ),
    "a parent of another type": (
        csv_of("{p}1,A,income,revenue,,,", UNDER.replace("{parent}", "{p}1")),
        "INVALID_ACCOUNT",
        "Line 3",
    ),
    "accounts under each other": (
        csv_of("{p}1,A,asset,current_asset,{p}2,,", UNDER.replace("{parent}", "{p}1")),
        "INVALID_ACCOUNT",
        "Line 3",
    ),
    "a code twice": (csv_of(ASSET, ASSET), "ACCOUNT_CODE_TAKEN", "Line 3"),
    "a code already in the chart": (
        csv_of(ASSET, "{bank},B,asset,current_asset,,,"),
        "ACCOUNT_CODE_TAKEN",
        "Line 3",
    ),
    "a field beyond what CSV reads": (
        csv_of("{p}1," + "a" * 140_000 + ",asset,current_asset,,,"),
        "INVALID_ACCOUNT",
        "Not a CSV file",
    ),
    "too many rows": (
        csv_of(*[f"{{p}}{n},A,asset,current_asset,,," for n in range(5001)]),
        "INVALID_ACCOUNT",
        "5000",
    ),
}


@pytest.mark.parametrize(
    ("text", "error_code", "detail"),
    [pytest.param(*case, id=name) for name, case in BAD_FILES.items()],
)
async def test_a_bad_file_is_refused_whole_saying_where(
    books: Books, text: str, error_code: str, detail: str
) -> None:
    names = {"p": books.prefix, "bank": books.code("bank"), "parent": "{parent}"}
    before = await books.read("/accounts", size=500)

    response = await load(books, text.format(**names))

    status = 409 if error_code == "ACCOUNT_CODE_TAKEN" else 422
    body = assert_problem(response, status, error_code)
    assert detail.format(**names) in body["detail"]
    assert await books.read("/accounts", size=500) == before


async def test_a_file_that_is_not_utf8_is_refused(books: Books) -> None:
    before = await chart_size(books)

    response = await load(
        books, csv_of(f"{books.prefix}1,Caf\xe9,asset,current_asset,,,").encode("latin-1")
    )

    assert_problem(response, 422, "INVALID_ACCOUNT")
    assert await chart_size(books) == before


async def test_an_import_sent_twice_with_one_key_loads_once(books: Books) -> None:
    text = csv_of(f"{books.prefix}1700,Inventory,asset,current_asset,,,")

    first = await load(books, text, **{"Idempotency-Key": "chart-once"})
    second = await load(books, text, **{"Idempotency-Key": "chart-once"})
    other = await load(
        books,
        text + f"{books.prefix}1701,More,asset,current_asset,,,\n",
        **{"Idempotency-Key": "chart-once"},
    )

    assert created(first) == created(second) == {"loaded": 1}
    assert second.headers["idempotent-replayed"] == "true"
    assert_problem(other, 422, "IDEMPOTENCY_KEY_REUSED")
