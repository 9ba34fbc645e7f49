"""Maker-checker: an entry above the approval threshold waits for a controller other than its
creator; below it an accountant posts alone."""

import pytest

from aibos.platform.app import create_app
from tests.conftest import serve
from tests.modules.ledger.books import (
    ENTRIES,
    Books,
    Json,
    assert_problem,
    created,
    settings_for,
)


async def submit(books: Books, amount: str, *, by_keeper: bool = False) -> Json:
    """An entry of `amount` sent with `post: true`: above the threshold it waits."""
    by = books.cast.keeper if by_keeper else books.cast.accountant
    return created(
        await books.create(
            books.debit("bank", amount), books.credit("capital", amount), post=True, by=by
        )
    )


async def test_an_entry_at_the_threshold_posts_at_once(books: Books) -> None:
    entry = await submit(books, "10000.00")

    assert (entry["status"], entry["number"]) == ("posted", books.number(1))
    assert await books.balance("bank") == "10000.00"


async def test_an_entry_above_the_threshold_waits_unnumbered_and_moves_nothing(
    books: Books,
) -> None:
    before = await books.snapshot()

    entry = await submit(books, "10000.01")

    assert (entry["status"], entry["number"], entry["posted_at"]) == (
        "pending_approval",
        None,
        None,
    )
    after = await books.snapshot()
    assert after.trial_balance == before.trial_balance
    assert after.entries == before.entries + 1
    assert await books.balance("bank") == "0.00"


async def test_a_controller_approves_and_the_entry_posts_with_the_next_number(
    books: Books,
) -> None:
    await books.transfer("cash", "capital", "1.00")
    waiting = await submit(books, "25000.00")
    await books.transfer("cash", "capital", "2.00")

    response = await books.act(waiting["id"], "approve", books.cast.controller)

    approved = created(response, 200)
    assert (approved["status"], approved["number"]) == ("posted", books.number(3))
    assert approved["approved_by"] == str(books.cast.controller.id)
    assert approved["approved_at"] is not None
    assert approved["created_by"] == str(books.cast.accountant.id)
    assert await books.balance("bank") == "25000.00"


async def test_the_creator_cannot_approve_their_own_entry(books: Books) -> None:
    waiting = await submit(books, "25000.00", by_keeper=True)

    response = await books.act(waiting["id"], "approve", books.cast.keeper)

    assert_problem(response, 403, "SELF_APPROVAL")
    assert (await books.get_entry(waiting["id"]))["status"] == "pending_approval"
    assert await books.balance("bank") == "0.00"
    approved = created(await books.act(waiting["id"], "approve", books.cast.controller), 200)
    assert approved["status"] == "posted"


@pytest.mark.parametrize("role", ["accountant", "auditor", "member"])
async def test_only_a_controller_approves(books: Books, role: str) -> None:
    waiting = await submit(books, "25000.00")

    response = await books.act(waiting["id"], "approve", books.cast.by_role(role))

    assert_problem(response, 403, "PERMISSION_DENIED")
    assert (await books.get_entry(waiting["id"]))["status"] == "pending_approval"


async def test_only_an_entry_awaiting_approval_is_approved(books: Books) -> None:
    posted = await books.transfer("cash", "capital", "1.00")
    draft = created(
        await books.create(books.debit("cash", "1.00"), books.credit("capital", "1.00"))
    )

    twice = await books.act(posted["id"], "approve", books.cast.controller)
    early = await books.act(draft["id"], "approve", books.cast.controller)

    assert_problem(twice, 409, "ENTRY_STATE_INVALID")
    assert_problem(early, 409, "ENTRY_STATE_INVALID")
    assert (await books.get_entry(draft["id"]))["status"] == "draft"


async def test_a_large_draft_posted_later_waits_for_approval_too(books: Books) -> None:
    draft = created(
        await books.create(books.debit("bank", "50000.00"), books.credit("capital", "50000.00"))
    )

    response = await books.act(draft["id"], "post", books.cast.accountant)

    assert created(response, 200)["status"] == "pending_approval"
    assert await books.balance("bank") == "0.00"


async def test_an_entry_awaiting_approval_is_no_longer_editable(books: Books) -> None:
    waiting = await submit(books, "25000.00")

    response = await books.client.put(
        f"{ENTRIES}/{waiting['id']}",
        json=books.entry(books.debit("bank", "1.00"), books.credit("capital", "1.00")),
        headers=books.cast.accountant.headers,
    )

    assert_problem(response, 409, "ENTRY_NOT_EDITABLE")
    assert await books.get_entry(waiting["id"]) == waiting


async def test_the_rules_are_checked_when_an_entry_is_submitted(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "25000.00"), books.credit("capital", "24000.00"), post=True
    )

    assert_problem(response, 422, "ENTRY_UNBALANCED")
    assert await books.snapshot() == before


async def test_approval_is_refused_once_the_period_has_closed(books: Books) -> None:
    waiting = await submit(books, "25000.00")  # dated in January
    await books.set_period(1, "closed")

    response = await books.act(waiting["id"], "approve", books.cast.controller)

    assert_problem(response, 422, "PERIOD_CLOSED")
    assert (await books.get_entry(waiting["id"]))["status"] == "pending_approval"
    assert await books.balance("bank") == "0.00"


async def test_the_threshold_counts_foreign_lines_in_the_functional_currency(
    books: Books,
) -> None:
    # 2,400.00 USD at 4.2 is 10,080.00 MYR: above 10,000.00
    entry = created(
        await books.create(
            books.debit("bank", "2400.00", currency="USD", rate="4.2"),
            books.credit("capital", "10080.00"),
            post=True,
        )
    )

    assert (entry["status"], entry["total"]) == ("pending_approval", "10080.00")


@pytest.mark.parametrize("role", ["auditor", "member", "controller"])
async def test_only_a_bookkeeper_drafts_or_posts(books: Books, role: str) -> None:
    before = await books.snapshot()
    person = books.cast.by_role(role)

    draft = await books.create(
        books.debit("cash", "1.00"), books.credit("capital", "1.00"), by=person
    )
    posting = await books.create(
        books.debit("cash", "1.00"), books.credit("capital", "1.00"), post=True, by=person
    )

    assert_problem(draft, 403, "PERMISSION_DENIED")
    assert_problem(posting, 403, "PERMISSION_DENIED")
    assert await books.snapshot() == before


async def test_the_threshold_is_a_setting(books: Books) -> None:
    app = create_app(settings_for(books.office.url, approval_threshold="500.00"))
    async with serve(app) as client:
        headers = books.cast.accountant.headers
        body = books.entry(
            books.debit("bank", "500.01"), books.credit("capital", "500.01"), post=True
        )
        waiting = created(await client.post(ENTRIES, json=body, headers=headers))
        body = books.entry(
            books.debit("bank", "500.00"), books.credit("capital", "500.00"), post=True
        )
        posted = created(await client.post(ENTRIES, json=body, headers=headers))

    assert waiting["status"] == "pending_approval"
    assert posted["status"] == "posted"


async def test_a_controller_sends_a_waiting_entry_back_to_draft(books: Books) -> None:
    waiting = await submit(books, "20000.00")

    response = await books.act(waiting["id"], "reject", books.cast.controller)

    assert created(response, 200)["status"] == "draft"
    discarded = await books.client.delete(
        f"{ENTRIES}/{waiting['id']}", headers=books.cast.accountant.headers
    )
    assert discarded.status_code == 204


async def test_only_a_waiting_entry_is_sent_back_and_only_by_a_controller(books: Books) -> None:
    waiting = await submit(books, "20000.00")
    posted = await books.transfer("cash", "capital", "5.00")

    by_accountant = await books.act(waiting["id"], "reject", books.cast.accountant)
    not_waiting = await books.act(posted["id"], "reject", books.cast.controller)

    assert_problem(by_accountant, 403, "PERMISSION_DENIED")
    assert_problem(not_waiting, 409, "ENTRY_STATE_INVALID")
