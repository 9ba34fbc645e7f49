"""Idempotency-Key: a retried request gets the first answer back instead of doing the work
twice; a key is one request's, and a failed request leaves it free."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from aibos.platform.idempotency import keys
from tests.modules.ledger.books import ENTRIES, Books, Json, assert_problem, created


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def rent(books: Books, amount: str = "300.00") -> list[Json]:
    return [books.debit("rent", amount), books.credit("bank", amount)]


async def test_the_same_key_and_body_replay_the_first_answer(books: Books) -> None:
    headers = key()
    before = await books.snapshot()

    first = await books.create(*rent(books), post=True, headers=headers)
    again = await books.create(*rent(books), post=True, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert first.json()["number"] == books.number(1)
    assert (await books.snapshot()).entries == before.entries + 1
    assert await books.balance("rent") == "300.00"


async def test_the_same_key_with_another_body_is_refused(books: Books) -> None:
    headers = key()
    created(await books.create(*rent(books), post=True, headers=headers))
    before = await books.snapshot()

    response = await books.create(*rent(books, "301.00"), post=True, headers=headers)

    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await books.snapshot() == before


async def test_two_requests_at_once_with_one_key_do_the_work_once(books: Books) -> None:
    headers = key()
    before = await books.snapshot()

    responses = await asyncio.gather(
        books.create(*rent(books), post=True, headers=headers),
        books.create(*rent(books), post=True, headers=headers),
    )

    done = [response for response in responses if response.status_code == 201]
    assert done, [response.text for response in responses]
    assert len({response.json()["id"] for response in done}) == 1
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, 409, "IDEMPOTENCY_KEY_IN_PROGRESS")
    assert (await books.snapshot()).entries == before.entries + 1
    assert await books.balance("rent") == "300.00"


async def test_a_failed_request_is_not_remembered(books: Books) -> None:
    headers = key()
    unbalanced = [books.debit("rent", "300.00"), books.credit("bank", "299.00")]
    before = await books.snapshot()

    first = await books.create(*unbalanced, post=True, headers=headers)
    retry = await books.create(*unbalanced, post=True, headers=headers)

    assert_problem(first, 422, "ENTRY_UNBALANCED")
    assert_problem(retry, 422, "ENTRY_UNBALANCED")
    assert "idempotent-replayed" not in retry.headers
    assert await books.snapshot() == before
    corrected = created(await books.create(*rent(books), post=True, headers=key()))
    assert corrected["number"] == books.number(1)


async def test_after_a_failure_the_key_is_free_for_the_corrected_request(books: Books) -> None:
    headers = key()
    unbalanced = [books.debit("rent", "300.00"), books.credit("bank", "299.00")]
    assert_problem(
        await books.create(*unbalanced, post=True, headers=headers), 422, "ENTRY_UNBALANCED"
    )

    corrected = await books.create(*rent(books), post=True, headers=headers)
    replayed = await books.create(*rent(books), post=True, headers=headers)

    assert created(corrected)["number"] == books.number(1)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == corrected.json()


async def test_keys_belong_to_the_person_who_sent_them(books: Books) -> None:
    headers = key()
    mine = created(await books.create(*rent(books), post=True, headers=headers))

    theirs = await books.create(*rent(books), post=True, headers=headers, by=books.cast.admin)

    assert created(theirs)["id"] != mine["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert await books.balance("rent") == "600.00"


async def test_a_retried_reversal_replays_instead_of_failing(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00")
    headers = {**books.cast.accountant.headers, **key()}

    first = await books.client.post(f"{ENTRIES}/{original['id']}/reverse", headers=headers)
    again = await books.client.post(f"{ENTRIES}/{original['id']}/reverse", headers=headers)

    assert created(first)["reversal_of"] == original["id"]
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await books.balance("rent") == "0.00"


async def test_a_retried_approval_replays_instead_of_failing(books: Books) -> None:
    waiting = created(
        await books.create(
            books.debit("bank", "20000.00"), books.credit("capital", "20000.00"), post=True
        )
    )
    headers = {**books.cast.controller.headers, **key()}

    first = await books.client.post(f"{ENTRIES}/{waiting['id']}/approve", headers=headers)
    again = await books.client.post(f"{ENTRIES}/{waiting['id']}/approve", headers=headers)

    assert created(first, 200)["status"] == "posted"
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


@pytest.mark.parametrize("action", ["post", "approve"])
async def test_a_replay_has_the_status_of_the_first_answer(books: Books, action: str) -> None:
    amount = "20000.00" if action == "approve" else "1.00"  # approval: above the threshold
    entry = created(
        await books.create(books.debit("bank", amount), books.credit("capital", amount))
    )
    if action == "approve":
        created(await books.act(entry["id"], "post", books.cast.accountant), 200)
    by = books.cast.controller if action == "approve" else books.cast.accountant
    headers = {**by.headers, **key()}

    first = await books.client.post(f"{ENTRIES}/{entry['id']}/{action}", headers=headers)
    again = await books.client.post(f"{ENTRIES}/{entry['id']}/{action}", headers=headers)

    assert first.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.status_code == first.status_code


async def test_a_key_that_is_too_long_is_refused(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(*rent(books), post=True, headers={"Idempotency-Key": "k" * 256})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert [error["field"] for error in body["errors"]] == ["header.Idempotency-Key"]
    assert await books.snapshot() == before


async def test_a_key_is_kept_a_day_then_serves_a_new_request(books: Books) -> None:
    headers = key()
    first = created(await books.create(*rent(books), post=True, headers=headers))
    created_at, expires_at = await _kept(books, headers)
    assert expires_at - created_at >= timedelta(hours=24)

    await _age_past_expiry(books, headers)
    later = await books.create(*rent(books, "301.00"), post=True, headers=headers)

    assert created(later)["id"] != first["id"]
    assert "idempotent-replayed" not in later.headers
    assert await books.balance("rent") == "601.00"


async def _kept(books: Books, headers: dict[str, str]) -> tuple[datetime, datetime]:
    async with books.office.app.state.container.engine().connect() as connection:
        row = (
            await connection.execute(
                select(keys.c.created_at, keys.c.expires_at).where(
                    keys.c.key == headers["Idempotency-Key"]
                )
            )
        ).one()
    return row.created_at, row.expires_at


async def _age_past_expiry(books: Books, headers: dict[str, str]) -> None:
    """A day and a second pass, as far as the key is concerned."""
    created_at, expires_at = await _kept(books, headers)
    a_day_ago = timedelta(days=1, seconds=1)
    async with books.office.app.state.container.engine().begin() as connection:
        await connection.execute(
            update(keys)
            .where(keys.c.key == headers["Idempotency-Key"])
            .values(created_at=created_at - a_day_ago, expires_at=expires_at - a_day_ago)
        )
