"""Batches: up to 1,000 entries posted in one call, all or none."""

import uuid
from typing import Any

from tests.modules.ledger.books import ENTRIES, Books, Json, assert_problem

BATCH = f"{ENTRIES}/batch"


def sales(books: Books, count: int) -> list[Json]:
    """`count` cash sales of 1.00, 2.00, 3.00 ... spread over the year."""
    return [
        books.entry(
            books.debit("cash", f"{n}.00"),
            books.credit("sales", f"{n}.00"),
            on=books.day(n % 12 + 1, n % 28 + 1),
            description=f"Sale {n}",
            source="till",
        )
        for n in range(1, count + 1)
    ]


async def send(books: Books, batch: list[Json], **headers: str) -> Any:
    return await books.client.post(
        BATCH, json=batch, headers={**books.cast.accountant.headers, **headers}
    )


async def test_a_batch_posts_every_entry_in_one_call(books: Books) -> None:
    response = await send(books, sales(books, 200))

    posted = response.json()
    assert response.status_code == 201, response.text
    assert len(posted) == 200
    assert all(entry["status"] == "posted" for entry in posted)
    assert [entry["description"] for entry in posted] == [f"Sale {n}" for n in range(1, 201)]
    assert [entry["number"] for entry in posted] == [books.number(n) for n in range(1, 201)]
    assert await books.balance("cash") == f"{sum(range(1, 201))}.00"  # 20100.00
    report = await books.trial_balance(start=books.day(1, 1))
    assert report["total_debits"] == report["total_credits"] == "20100.00"


async def test_one_bad_entry_refuses_the_whole_batch(books: Books) -> None:
    batch = sales(books, 200)
    batch[100]["lines"][1]["amount"] = "100.00"  # entry 100 (from 0) is sale 101: unbalanced
    before = await books.snapshot()

    response = await send(books, batch)

    body = assert_problem(response, 422, "ENTRY_UNBALANCED")
    assert body["detail"].startswith("Entry 100:")
    assert await books.snapshot() == before
    assert (await books.transfer("cash", "sales", "1.00"))["number"] == books.number(1)


async def test_a_batch_names_the_entry_with_an_unknown_account(books: Books) -> None:
    batch = sales(books, 10)
    batch[7]["lines"][0]["account_code"] = "NO-SUCH"
    before = await books.snapshot()

    response = await send(books, batch)

    body = assert_problem(response, 422, "ACCOUNT_UNKNOWN")
    assert body["detail"].startswith("Entry 7:")
    assert await books.snapshot() == before


async def test_a_malformed_entry_in_a_batch_is_named_by_its_position(books: Books) -> None:
    batch = sales(books, 10)
    del batch[4]["description"]
    before = await books.snapshot()

    response = await send(books, batch)

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert [error["field"] for error in body["errors"]] == ["body.4.description"]
    assert await books.snapshot() == before


async def test_a_batch_holds_at_most_a_thousand_entries(books: Books) -> None:
    before = await books.snapshot()

    too_many = await send(books, sales(books, 1001))
    empty = await send(books, [])

    assert_problem(too_many, 422, "INVALID_INPUT")
    assert_problem(empty, 422, "INVALID_INPUT")
    assert await books.snapshot() == before


async def test_a_retried_batch_with_its_key_replays(books: Books) -> None:
    batch = sales(books, 20)
    key = f"batch-{uuid.uuid4()}"
    before = await books.snapshot()

    first = await send(books, batch, **{"Idempotency-Key": key})
    again = await send(books, batch, **{"Idempotency-Key": key})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert (await books.snapshot()).entries == before.entries + 20
    assert await books.balance("cash") == "210.00"


async def test_an_entry_above_the_threshold_in_a_batch_waits_for_approval(
    books: Books,
) -> None:
    batch = sales(books, 2)
    batch.append(books.entry(books.debit("bank", "20000.00"), books.credit("capital", "20000.00")))

    response = await send(books, batch)

    assert response.status_code == 201, response.text
    posted = response.json()
    assert [entry["status"] for entry in posted] == ["posted", "posted", "pending_approval"]
    assert [entry["number"] for entry in posted] == [books.number(1), books.number(2), None]


async def test_only_a_bookkeeper_posts_a_batch(books: Books) -> None:
    before = await books.snapshot()

    for role in ("controller", "auditor", "member"):
        response = await books.client.post(
            BATCH, json=sales(books, 2), headers=books.cast.by_role(role).headers
        )
        assert_problem(response, 403, "PERMISSION_DENIED")
    assert await books.snapshot() == before
