"""Reversal: a posted entry is never changed; a new linked entry with the sides swapped
undoes it, once. The reversal of an entry that needed approval needs it too; a year-end closing
entry is never reversed directly."""

from typing import Any

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


async def reverse(books: Books, entry: Json, **body: Any) -> Any:
    return await books.act(entry["id"], "reverse", books.cast.accountant, json=body or None)


def sides(entry: Json) -> list[tuple[str, str, str]]:
    return [(line["account_code"], line["side"], line["amount"]) for line in entry["lines"]]


async def test_a_reversal_is_a_linked_entry_with_the_sides_swapped(books: Books) -> None:
    original = await books.post(
        books.debit("rent", "300.00"),
        books.debit("cash", "10.00", currency="USD", rate="4.2125"),
        books.credit("bank", "342.13"),
        on=books.day(2, 10),
    )

    reversal = created(await reverse(books, original))

    assert (reversal["status"], reversal["number"]) == ("posted", books.number(2))
    assert reversal["reversal_of"] == original["id"]
    assert reversal["reference"] == original["number"]
    assert reversal["description"] == f"Reversal of {original['number']}"
    assert reversal["entry_date"] == books.day(2, 10)
    assert sides(reversal) == [
        (books.code("rent"), "credit", "300.00"),
        (books.code("cash"), "credit", "10.00"),
        (books.code("bank"), "debit", "342.13"),
    ]
    assert [line["functional_amount"] for line in reversal["lines"]] == [
        "300.00",
        "42.13",
        "342.13",
    ]
    again = await books.get_entry(original["id"])
    assert (again["status"], again["reversed_by"]) == ("reversed", reversal["id"])
    assert sides(again) == sides(original)


async def test_a_reversal_nets_the_balances_back(books: Books) -> None:
    await books.transfer("bank", "capital", "1000.00")
    before = await books.balances("bank", "capital", "rent")
    original = await books.transfer("rent", "bank", "300.00")

    created(await reverse(books, original))

    assert await books.balances("bank", "capital", "rent") == before
    report = await books.trial_balance(start=books.day(1, 1))
    rent = next(row for row in report["rows"] if row["account_code"] == books.code("rent"))
    assert (rent["debits"], rent["credits"]) == ("300.00", "300.00")
    assert (rent["closing_debit"], rent["closing_credit"]) == ("0.00", "0.00")
    assert report["total_debits"] == report["total_credits"]


async def test_a_reversal_takes_the_date_it_is_given(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00", on=books.day(1, 31))

    reversal = created(
        await reverse(books, original, entry_date=books.day(2, 1), description="Accrual undone")
    )

    assert (reversal["entry_date"], reversal["description"]) == (books.day(2, 1), "Accrual undone")
    assert await books.balance("rent", books.day(1, 31)) == "300.00"
    assert await books.balance("rent", books.day(2, 1)) == "0.00"


async def test_a_reversal_of_an_entry_in_a_closed_period_lands_in_the_next_open_one(
    books: Books,
) -> None:
    original = await books.transfer("rent", "bank", "300.00", on=books.day(3, 20))
    await books.set_period(3, "closed")
    await books.set_period(4, "closed")
    await books.set_period(4, "locked")

    reversal = created(await reverse(books, original))

    assert reversal["entry_date"] == books.day(5, 1)
    assert await books.balance("rent", books.day(4, 30)) == "300.00"
    assert await books.balance("rent", books.day(5, 1)) == "0.00"


async def test_a_reversal_dated_in_a_closed_period_is_refused(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00", on=books.day(3, 20))
    await books.set_period(3, "closed")
    before = await books.snapshot()

    response = await reverse(books, original, entry_date=books.day(3, 31))

    assert_problem(response, 422, "PERIOD_CLOSED")
    assert await books.snapshot() == before
    assert (await books.get_entry(original["id"]))["status"] == "posted"


async def test_with_no_open_period_left_a_reversal_is_refused(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00", on=books.day(12, 5))
    await books.set_period(12, "closed")
    before = await books.snapshot()

    response = await reverse(books, original)

    assert_problem(response, 422, "PERIOD_CLOSED")
    assert await books.snapshot() == before
    assert (await books.get_entry(original["id"]))["reversed_by"] is None


async def test_an_entry_is_reversed_only_once(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00")
    created(await reverse(books, original))
    before = await books.snapshot()

    response = await reverse(books, original)

    assert_problem(response, 409, "ENTRY_STATE_INVALID")
    assert await books.snapshot() == before


async def test_only_a_posted_entry_is_reversed(books: Books) -> None:
    draft = created(await books.create(books.debit("rent", "1.00"), books.credit("bank", "1.00")))
    waiting = created(
        await books.create(
            books.debit("rent", "20000.00"), books.credit("bank", "20000.00"), post=True
        )
    )
    before = await books.snapshot()

    for entry in (draft, waiting):
        assert_problem(await reverse(books, entry), 409, "ENTRY_STATE_INVALID")
    assert await books.snapshot() == before


async def test_a_reversal_can_itself_be_reversed(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00")
    reversal = created(await reverse(books, original))

    again = created(await reverse(books, reversal))

    assert again["reversal_of"] == reversal["id"]
    assert sides(again) == sides(original)
    assert await books.balance("rent") == "300.00"


async def test_only_a_bookkeeper_reverses(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00")

    for role in ("controller", "auditor", "member"):
        response = await books.act(original["id"], "reverse", books.cast.by_role(role))
        assert_problem(response, 403, "PERMISSION_DENIED")
    assert (await books.get_entry(original["id"]))["status"] == "posted"


async def test_a_reversal_dated_before_its_original_is_refused(books: Books) -> None:
    original = await books.transfer("rent", "bank", "300.00", on=books.day(3, 10))
    before = await books.snapshot()

    response = await reverse(books, original, entry_date=books.day(3, 9))

    assert_problem(response, 422, "REVERSAL_BEFORE_ORIGINAL")
    assert await books.snapshot() == before


# Reversals and the checker


async def approved(books: Books, amount: str = "25000.00") -> Json:
    """An entry above the threshold, submitted by the accountant, approved by the controller."""
    waiting = created(
        await books.create(books.debit("rent", amount), books.credit("bank", amount), post=True)
    )
    entry = created(await books.act(waiting["id"], "approve", books.cast.controller), 200)
    assert entry["status"] == "posted"
    return entry


async def test_the_reversal_of_an_approved_entry_waits_for_a_controller(books: Books) -> None:
    original = await approved(books)
    before = await books.snapshot()

    reversal = created(await reverse(books, original))

    assert (reversal["status"], reversal["number"]) == ("pending_approval", None)
    assert reversal["reversal_of"] == original["id"]
    waiting = await books.get_entry(original["id"])
    assert (waiting["status"], waiting["reversed_by"]) == ("posted", reversal["id"])
    assert (await books.snapshot()).trial_balance == before.trial_balance
    by_accountant = await books.act(reversal["id"], "approve", books.cast.accountant)
    assert_problem(by_accountant, 403, "PERMISSION_DENIED")
    done = created(await books.act(reversal["id"], "approve", books.cast.controller), 200)
    assert (done["status"], done["approved_by"]) == ("posted", str(books.cast.controller.id))
    assert (await books.get_entry(original["id"]))["status"] == "reversed"
    assert await books.balance("rent") == "0.00"


async def test_whoever_reverses_an_approved_entry_may_not_approve_the_reversal(
    books: Books,
) -> None:
    original = await approved(books)
    reversal = created(await books.act(original["id"], "reverse", books.cast.keeper))

    response = await books.act(reversal["id"], "approve", books.cast.keeper)

    assert_problem(response, 403, "SELF_APPROVAL")
    assert await books.balance("rent") == "25000.00"


async def test_a_reversal_of_a_reversal_of_an_approved_entry_waits_for_approval(
    books: Books,
) -> None:
    original = await approved(books)
    reversal = created(await reverse(books, original))
    reversal = created(await books.act(reversal["id"], "approve", books.cast.controller), 200)

    again = created(await reverse(books, reversal))

    assert (again["status"], again["number"]) == ("pending_approval", None)
    assert await books.balance("rent") == "0.00"
    created(await books.act(again["id"], "approve", books.cast.controller), 200)
    assert await books.balance("rent") == "25000.00"


async def test_an_approved_entry_is_reversed_with_approval_whatever_the_threshold_now(
    books: Books,
) -> None:
    original = await approved(books)

    app = create_app(settings_for(books.office.url, approval_threshold="100000.00"))
    async with serve(app) as client:
        response = await client.post(
            f"{ENTRIES}/{original['id']}/reverse", headers=books.cast.accountant.headers
        )

    assert created(response)["status"] == "pending_approval"
    assert await books.balance("rent") == "25000.00"


async def test_an_entry_with_a_reversal_waiting_is_not_reversed_again(books: Books) -> None:
    original = await approved(books)
    created(await reverse(books, original))
    before = await books.snapshot()

    response = await reverse(books, original)

    assert_problem(response, 409, "ENTRY_STATE_INVALID")
    assert await books.snapshot() == before


async def test_a_reversal_sent_back_is_posted_again_or_discarded_never_rewritten(
    books: Books,
) -> None:
    original = await approved(books)
    reversal = created(await reverse(books, original))
    created(await books.act(reversal["id"], "reject", books.cast.controller), 200)

    rewritten = await books.client.put(
        f"{ENTRIES}/{reversal['id']}",
        json=books.entry(books.debit("bank", "1.00"), books.credit("rent", "1.00")),
        headers=books.cast.accountant.headers,
    )
    posted_again = created(await books.act(reversal["id"], "post", books.cast.accountant), 200)

    assert_problem(rewritten, 409, "ENTRY_NOT_EDITABLE")
    assert posted_again["status"] == "pending_approval"
    assert sides(posted_again) == sides(reversal)
    created(await books.act(reversal["id"], "reject", books.cast.controller), 200)
    discarded = await books.client.delete(
        f"{ENTRIES}/{reversal['id']}", headers=books.cast.accountant.headers
    )
    assert discarded.status_code == 204
    assert created(await reverse(books, original))["status"] == "pending_approval"
    assert await books.balance("rent") == "25000.00"
