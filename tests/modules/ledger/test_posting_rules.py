"""Journal entries: drafts, the posting rules each with its own error code, and gapless
numbers per fiscal year."""

import asyncio
from datetime import date
from typing import Any

from tests.modules.ledger.books import ENTRIES, Books, Json, assert_problem, created


async def replace(books: Books, entry: Json, *lines: Json, **extra: Any) -> Any:
    return await books.client.put(
        f"{ENTRIES}/{entry['id']}",
        json=books.entry(*lines, **extra),
        headers=books.cast.accountant.headers,
    )


async def test_an_entry_is_a_draft_until_posted_and_moves_no_balance(books: Books) -> None:
    draft = created(
        await books.create(
            books.debit("cash", "25.00", memo="float"),
            books.credit("capital", "25.00"),
            reference="INV-7",
            source="manual",
        )
    )

    assert (draft["status"], draft["number"], draft["total"]) == ("draft", None, "25.00")
    assert (draft["reference"], draft["source"]) == ("INV-7", "manual")
    assert draft["created_by"] == str(books.cast.accountant.id)
    assert draft["posted_by"] is None
    assert [(line["line_number"], line["side"], line["memo"]) for line in draft["lines"]] == [
        (1, "debit", "float"),
        (2, "credit", ""),
    ]
    assert await books.get_entry(draft["id"]) == draft
    assert await books.balance("cash") == "0.00"


async def test_posting_a_draft_numbers_it_and_moves_the_balances(books: Books) -> None:
    draft = created(
        await books.create(books.debit("cash", "25.00"), books.credit("sales", "25.00"))
    )

    posted = created(await books.act(draft["id"], "post", books.cast.accountant), 200)

    assert (posted["status"], posted["number"]) == ("posted", books.number(1))
    assert posted["posted_by"] == str(books.cast.accountant.id)
    assert posted["posted_at"] is not None
    assert posted["approved_by"] is None
    assert await books.balances("cash", "sales") == {"cash": "25.00", "sales": "25.00"}


async def test_a_posted_entry_is_not_posted_again(books: Books) -> None:
    entry = await books.transfer("cash", "capital", "10.00")

    response = await books.act(entry["id"], "post", books.cast.accountant)

    assert_problem(response, 409, "ENTRY_STATE_INVALID")
    assert await books.balance("cash") == "10.00"


async def test_an_entry_with_fewer_than_two_lines_is_refused(books: Books) -> None:
    before = await books.snapshot()

    one = await books.create(books.debit("cash", "10.00"), post=True)
    none = await books.create(post=True)

    assert_problem(one, 422, "ENTRY_TOO_FEW_LINES")
    assert assert_problem(none, 422, "VALIDATION_FAILED")["errors"][0]["field"] == "body.lines"
    assert await books.snapshot() == before


async def test_a_one_line_draft_is_kept_but_not_posted(books: Books) -> None:
    draft = created(await books.create(books.debit("cash", "10.00")))

    response = await books.act(draft["id"], "post", books.cast.accountant)

    assert_problem(response, 422, "ENTRY_TOO_FEW_LINES")
    assert (await books.get_entry(draft["id"]))["status"] == "draft"


async def test_a_line_of_zero_is_refused(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00"),
        books.debit("bank", "0.00"),
        books.credit("capital", "10.00"),
        post=True,
    )

    body = assert_problem(response, 422, "LINE_INVALID")
    assert "Line 2" in body["detail"]
    assert await books.snapshot() == before


async def test_a_negative_amount_is_not_an_amount(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "-10.00"), books.credit("capital", "-10.00"), post=True
    )

    assert_problem(response, 422, "VALIDATION_FAILED")
    assert await books.snapshot() == before


async def test_an_unbalanced_entry_is_refused_and_nothing_is_written(books: Books) -> None:
    await books.transfer("cash", "capital", "100.00")
    before = await books.snapshot()

    response = await books.create(
        books.debit("rent", "40.00"), books.credit("cash", "39.99"), post=True
    )

    body = assert_problem(response, 422, "ENTRY_UNBALANCED")
    assert "40.00" in body["detail"]
    assert "39.99" in body["detail"]
    assert await books.snapshot() == before
    assert await books.balances("cash", "rent") == {"cash": "100.00", "rent": "0.00"}


async def test_a_line_naming_an_unknown_account_is_refused(books: Books) -> None:
    before = await books.snapshot()

    draft = await books.create(books.debit("cash", "10.00"), books.credit("NO-SUCH", "10.00"))
    posting = await books.create(
        books.debit("cash", "10.00"), books.credit("NO-SUCH", "10.00"), post=True
    )

    for response in (draft, posting):
        body = assert_problem(response, 422, "ACCOUNT_UNKNOWN")
        assert "NO-SUCH" in body["detail"]
    assert await books.snapshot() == before


async def test_a_line_with_both_sides_or_an_unknown_field_is_refused(books: Books) -> None:
    before = await books.snapshot()
    odd = {**books.debit("cash", "10.00"), "credit": "10.00"}

    response = await books.create(odd, books.credit("capital", "10.00"), post=True)

    assert_problem(response, 422, "VALIDATION_FAILED")
    assert await books.snapshot() == before


async def test_entries_are_numbered_without_gaps_per_fiscal_year(books: Books) -> None:
    first = await books.transfer("cash", "capital", "1.00")
    refused = await books.create(
        books.debit("cash", "2.00"), books.credit("capital", "1.00"), post=True
    )
    draft = created(
        await books.create(books.debit("cash", "3.00"), books.credit("capital", "3.00"))
    )
    second = await books.transfer("cash", "capital", "4.00")
    third = created(await books.act(draft["id"], "post", books.cast.accountant), 200)

    assert_problem(refused, 422, "ENTRY_UNBALANCED")
    assert [first["number"], second["number"], third["number"]] == [
        books.number(1),
        books.number(2),
        books.number(3),
    ]


async def test_each_fiscal_year_numbers_from_one(books: Books) -> None:
    next_year = await books.open_year(date(books.year + 1, 1, 1))
    await books.transfer("cash", "capital", "1.00", on=books.day(12, 31))

    entry = await books.transfer("cash", "capital", "1.00", on=books.day(1, 1, year_offset=1))

    assert next_year["name"] == str(books.year + 1)
    assert entry["number"] == f"JE-{books.year + 1}-000001"


async def test_concurrent_postings_get_distinct_gapless_numbers(books: Books) -> None:
    responses = await asyncio.gather(
        *(
            books.create(
                books.debit("cash", f"{n}.00"), books.credit("capital", f"{n}.00"), post=True
            )
            for n in range(1, 11)
        )
    )

    numbers = sorted(created(response)["number"] for response in responses)
    assert numbers == [books.number(n) for n in range(1, 11)]
    assert await books.balance("cash") == "55.00"


async def test_a_draft_is_replaced_whole(books: Books) -> None:
    draft = created(
        await books.create(books.debit("cash", "10.00"), books.credit("capital", "10.00"))
    )

    replaced = created(
        await replace(
            books,
            draft,
            books.debit("rent", "7.00"),
            books.debit("cash", "5.00"),
            books.credit("bank", "12.00"),
            on=books.day(2, 3),
            description="Rent and float",
        ),
        200,
    )

    assert replaced["id"] == draft["id"]
    assert (replaced["status"], replaced["total"], replaced["entry_date"]) == (
        "draft",
        "12.00",
        books.day(2, 3),
    )
    assert replaced["description"] == "Rent and float"
    assert [(line["account_code"], line["amount"]) for line in replaced["lines"]] == [
        (books.code("rent"), "7.00"),
        (books.code("cash"), "5.00"),
        (books.code("bank"), "12.00"),
    ]
    assert await books.get_entry(draft["id"]) == replaced


async def test_a_bad_replacement_leaves_the_draft_as_it_was(books: Books) -> None:
    draft = created(
        await books.create(books.debit("cash", "10.00"), books.credit("capital", "10.00"))
    )

    response = await replace(
        books, draft, books.debit("NO-SUCH", "1.00"), books.credit("cash", "1.00")
    )

    assert_problem(response, 422, "ACCOUNT_UNKNOWN")
    assert await books.get_entry(draft["id"]) == draft


async def test_a_draft_is_discarded(books: Books) -> None:
    before = await books.snapshot()
    draft = created(
        await books.create(books.debit("cash", "10.00"), books.credit("capital", "10.00"))
    )

    response = await books.client.delete(
        f"{ENTRIES}/{draft['id']}", headers=books.cast.accountant.headers
    )

    assert response.status_code == 204
    gone = await books.client.get(f"{ENTRIES}/{draft['id']}", headers=books.cast.auditor.headers)
    assert_problem(gone, 404, "ENTRY_NOT_FOUND")
    assert await books.snapshot() == before


async def test_a_posted_entry_is_neither_edited_nor_discarded(books: Books) -> None:
    entry = await books.transfer("cash", "capital", "10.00")

    edit = await replace(
        books, entry, books.debit("cash", "99.00"), books.credit("capital", "99.00")
    )
    discard = await books.client.delete(
        f"{ENTRIES}/{entry['id']}", headers=books.cast.accountant.headers
    )

    assert_problem(edit, 409, "ENTRY_NOT_EDITABLE")
    assert_problem(discard, 409, "ENTRY_NOT_EDITABLE")
    assert await books.get_entry(entry["id"]) == entry
    assert await books.balance("cash") == "10.00"


async def test_an_unknown_entry_is_not_found(books: Books) -> None:
    missing = "00000000-0000-0000-0000-000000000000"

    read = await books.client.get(f"{ENTRIES}/{missing}", headers=books.cast.auditor.headers)
    post = await books.act(missing, "post", books.cast.accountant)

    assert_problem(read, 404, "ENTRY_NOT_FOUND")
    assert_problem(post, 404, "ENTRY_NOT_FOUND")


async def test_the_answer_to_a_posting_is_the_entry_as_stored(books: Books) -> None:
    await books.set_rate("USD", books.day(1, 1), "4.2125")
    posted = await books.post(
        books.debit("bank", "10.00", currency="USD", memo="invoice 7"),
        books.credit("sales", "42.13"),
    )

    assert await books.get_entry(posted["id"]) == posted
