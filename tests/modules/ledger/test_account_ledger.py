"""An account's ledger a page at a time: following `next_cursor` gives every posted line once,
in order, with a running balance that carries on across pages, even when a page ends in the
middle of a day or of an entry."""

from decimal import Decimal

import pytest

from tests.modules.ledger.books import ENTRIES, LEDGER, Books, Json, Office, created, csv_rows


@pytest.fixture(scope="module")
async def busy(office: Office) -> Books:
    """30 entries on 7 days: every fifth takes cash out, the other thirds put two lines on cash."""
    books = await office.new_books()
    batch = []
    for n in range(1, 31):
        day = books.day(2, n // 5 + 1)
        if n % 5 == 0:
            lines = [books.debit("rent", f"{n}.00"), books.credit("cash", f"{n}.00")]
        elif n % 3 == 0:
            lines = [
                books.debit("cash", f"{n}.00"),
                books.debit("cash", "0.01"),
                books.credit("sales", f"{n}.01"),
            ]
        else:
            lines = [books.debit("cash", f"{n}.00"), books.credit("sales", f"{n}.00")]
        batch.append(books.entry(*lines, on=day, description=f"Entry {n}"))
    response = await books.client.post(
        f"{ENTRIES}/batch", json=batch, headers=books.cast.accountant.headers
    )
    created(response)
    return books


async def every_page(books: Books, size: int) -> list[Json]:
    path = f"/accounts/{books.id('cash')}/ledger"
    pages = [await books.read(path, size=size)]
    while pages[-1]["next_cursor"]:
        pages.append(await books.read(path, size=size, cursor=pages[-1]["next_cursor"]))
    return pages


def key(line: Json) -> tuple[str, int]:
    return line["entry_number"], line["line_number"]


@pytest.mark.parametrize("size", [1, 4, 7])
async def test_following_the_cursor_gives_every_line_once_with_a_continuous_balance(
    busy: Books, size: int
) -> None:
    books = busy
    whole = await books.read(f"/accounts/{books.id('cash')}/ledger", size=1000)

    pages = await every_page(books, size)

    lines = [line for page in pages for line in page["data"]]
    assert [key(line) for line in lines] == [key(line) for line in whole["data"]]
    assert len(lines) == 38  # 30 entries, 8 of them with two cash lines
    assert all(len(page["data"]) == size for page in pages[:-1])
    running = Decimal(0)
    for page in pages:
        assert Decimal(page["opening_balance"]) == running
        for line in page["data"]:
            running += Decimal(line["debit"]) - Decimal(line["credit"])
            assert Decimal(line["running_balance"]) == running
    assert f"{running:.2f}" == await books.balance("cash")


async def test_lines_come_by_date_then_number_then_line(busy: Books) -> None:
    page = await busy.read(f"/accounts/{busy.id('cash')}/ledger", size=1000)

    order = [
        (line["entry_date"], line["entry_number"], line["line_number"]) for line in page["data"]
    ]
    assert order == sorted(order)


async def test_drafts_and_entries_awaiting_approval_are_not_in_the_ledger(books: Books) -> None:
    await books.transfer("cash", "sales", "5.00")
    created(await books.create(books.debit("cash", "7.00"), books.credit("sales", "7.00")))
    created(
        await books.create(
            books.debit("cash", "20000.00"), books.credit("sales", "20000.00"), post=True
        )
    )

    page = await books.read(f"/accounts/{books.id('cash')}/ledger")

    assert [(line["debit"], line["running_balance"]) for line in page["data"]] == [("5.00", "5.00")]


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_made_inert(books: Books) -> None:
    await books.post(
        books.debit("rent", "12.00", memo='=HYPERLINK("http://evil.example")'),
        books.credit("bank", "12.00", memo="-12 rent"),
    )

    response = await books.client.get(
        f"{LEDGER}/accounts/{books.id('rent')}/ledger",
        params={"format": "csv"},
        headers=books.cast.auditor.headers,
    )
    rows = csv_rows(response)

    assert rows[0]["memo"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["debit"] == "12.00"
