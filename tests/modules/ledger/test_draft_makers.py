"""Maker-checker through edits: a draft is changed or discarded by its creator, or by someone who
may approve entries; whoever created, changed or submitted an entry may not approve it."""

import httpx
import pytest

from tests.modules.ledger.books import ENTRIES, Books, Json, Office, assert_problem, created
from tests.people import Person, sign_in, with_roles


@pytest.fixture(scope="module")
async def other_accountant(office: Office) -> Person:
    return await with_roles(office.app, office.client, "accountant", by=office.cast.admin)


async def draft(books: Books, amount: str, *, by: Person | None = None) -> Json:
    return created(
        await books.create(books.debit("bank", amount), books.credit("capital", amount), by=by)
    )


async def rewrite(books: Books, entry: Json, amount: str, by: Person) -> httpx.Response:
    body = books.entry(books.debit("bank", amount), books.credit("capital", amount))
    return await books.client.put(f"{ENTRIES}/{entry['id']}", json=body, headers=by.headers)


async def test_an_accountant_neither_rewrites_nor_discards_another_accountants_draft(
    books: Books, other_accountant: Person
) -> None:
    entry = await draft(books, "1.00")

    rewritten = await rewrite(books, entry, "500000.00", other_accountant)
    discarded = await books.client.delete(
        f"{ENTRIES}/{entry['id']}", headers=other_accountant.headers
    )

    assert_problem(rewritten, 403, "DRAFT_NOT_YOURS")
    assert_problem(discarded, 403, "DRAFT_NOT_YOURS")
    assert await books.get_entry(entry["id"]) == entry


async def test_an_accountant_made_controller_rewrites_a_draft_but_may_not_approve_it(
    books: Books,
) -> None:
    office = books.office
    author = books.cast.accountant
    rewriter = await with_roles(office.app, office.client, "accountant", by=books.cast.admin)
    entry = await draft(books, "1.00", by=author)
    assert_problem(await rewrite(books, entry, "500000.00", rewriter), 403, "DRAFT_NOT_YOURS")
    granted = await books.client.put(
        f"/api/v1/users/{rewriter.id}/roles",
        json={"roles": ["accountant", "controller"]},
        headers=books.cast.admin.headers,
    )
    assert granted.status_code == 200, granted.text
    rewriter = await sign_in(books.client, rewriter.email, rewriter.password)

    rewritten = created(await rewrite(books, entry, "500000.00", rewriter), 200)
    submitted = created(await books.act(entry["id"], "post", rewriter), 200)
    by_rewriter = await books.act(entry["id"], "approve", rewriter)

    assert (rewritten["total"], rewritten["updated_by"]) == ("500000.00", str(rewriter.id))
    assert rewritten["updated_at"] >= rewritten["created_at"]
    assert rewritten["created_by"] == str(author.id)
    assert submitted["status"] == "pending_approval"
    assert_problem(by_rewriter, 403, "SELF_APPROVAL")
    assert await books.balance("bank") == "0.00"
    approved = created(await books.act(entry["id"], "approve", books.cast.controller), 200)
    assert approved["status"] == "posted"
    assert approved["approved_by"] == str(books.cast.controller.id)


@pytest.mark.parametrize("role", ["keeper", "admin"])
async def test_whoever_changed_a_draft_stays_barred_after_its_creator_changes_it_again(
    books: Books, role: str
) -> None:
    changer = books.cast.by_role(role)
    entry = await draft(books, "1.00")
    created(await rewrite(books, entry, "500000.00", changer), 200)
    mended = created(await rewrite(books, entry, "500000.00", books.cast.accountant), 200)
    created(await books.act(entry["id"], "post", books.cast.accountant), 200)

    response = await books.act(entry["id"], "approve", changer)

    assert mended["updated_by"] == str(books.cast.accountant.id)
    assert_problem(response, 403, "SELF_APPROVAL")
    assert (await books.get_entry(entry["id"]))["status"] == "pending_approval"


async def test_whoever_submitted_another_users_draft_may_not_approve_it(books: Books) -> None:
    entry = await draft(books, "50000.00")
    created(await books.act(entry["id"], "post", books.cast.keeper), 200)

    by_submitter = await books.act(entry["id"], "approve", books.cast.keeper)

    assert_problem(by_submitter, 403, "SELF_APPROVAL")
    created(await books.act(entry["id"], "reject", books.cast.controller), 200)
    created(await books.act(entry["id"], "post", books.cast.accountant), 200)
    assert_problem(await books.act(entry["id"], "approve", books.cast.keeper), 403, "SELF_APPROVAL")
    approved = created(await books.act(entry["id"], "approve", books.cast.controller), 200)
    assert approved["status"] == "posted"


async def test_a_creator_changes_their_own_draft_and_the_change_is_recorded(
    books: Books,
) -> None:
    entry = await draft(books, "1.00")
    assert (entry["updated_by"], entry["updated_at"]) == (None, None)

    changed = created(await rewrite(books, entry, "2.00", books.cast.accountant), 200)

    assert (changed["total"], changed["updated_by"]) == ("2.00", str(books.cast.accountant.id))
    assert changed["updated_at"] is not None
    assert await books.get_entry(entry["id"]) == changed
    discarded = await books.client.delete(
        f"{ENTRIES}/{entry['id']}", headers=books.cast.accountant.headers
    )
    assert discarded.status_code == 204


async def test_a_controller_discards_another_users_draft(books: Books) -> None:
    entry = await draft(books, "1.00")

    response = await books.client.delete(
        f"{ENTRIES}/{entry['id']}", headers=books.cast.keeper.headers
    )

    assert response.status_code == 204
    missing = await books.client.get(f"{ENTRIES}/{entry['id']}", headers=books.cast.auditor.headers)
    assert_problem(missing, 404, "ENTRY_NOT_FOUND")
