"""Whoever acted on the books keeps their record: deactivated or erased, never deleted."""

from __future__ import annotations

import httpx

from tests.modules.ledger.books import ENTRIES, Books, Json, assert_problem, created
from tests.modules.users.checks import refused_within
from tests.people import PASSWORD, Person, with_roles

USERS = "/api/v1/users"


async def someone(books: Books, *roles: str) -> Person:
    """A new person of the office with these roles (the shared cast must stay as it is)."""
    return await with_roles(books.office.app, books.client, *roles, by=books.cast.admin)


async def delete(books: Books, person: Person) -> httpx.Response:
    return await books.client.delete(f"{USERS}/{person.id}", headers=books.cast.admin.headers)


async def user(books: Books, user_id: str) -> Json:
    return created(
        await books.client.get(f"{USERS}/{user_id}", headers=books.cast.admin.headers), 200
    )


async def test_a_user_who_posted_entries_is_not_deleted(books: Books) -> None:
    poster = await someone(books, "accountant")
    entry = await books.post(
        books.debit("cash", "10.00"), books.credit("sales", "10.00"), by=poster
    )

    response = await delete(books, poster)

    body = assert_problem(response, 409, "USER_HAS_HISTORY")
    assert "deactivate" in body["detail"]
    assert "erase" in body["detail"]
    assert (await user(books, entry["created_by"]))["email"] == poster.email
    assert (await user(books, entry["posted_by"]))["is_active"] is True
    signed_in = await books.client.post(
        "/api/v1/auth/login", json={"email": poster.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200  # nothing of the refused deletion was written


async def test_a_user_who_only_approved_an_entry_is_not_deleted(books: Books) -> None:
    approver = await someone(books, "controller")
    large = created(
        await books.create(
            books.debit("cash", "20000.00"), books.credit("sales", "20000.00"), post=True
        )
    )
    assert large["status"] == "pending_approval"
    approved = created(await books.act(large["id"], "approve", by=approver), 200)
    assert approved["approved_by"] == str(approver.id)

    assert_problem(await delete(books, approver), 409, "USER_HAS_HISTORY")


async def test_a_user_who_once_changed_another_users_draft_is_not_deleted(books: Books) -> None:
    changer = await someone(books, "accountant", "controller")
    entry = created(await books.create(books.debit("cash", "1.00"), books.credit("sales", "1.00")))
    for amount, by in (("2.00", changer), ("3.00", books.cast.accountant)):
        body = books.entry(books.debit("cash", amount), books.credit("sales", amount))
        changed = await books.client.put(f"{ENTRIES}/{entry['id']}", json=body, headers=by.headers)
        assert changed.status_code == 200, changed.text

    assert_problem(await delete(books, changer), 409, "USER_HAS_HISTORY")


async def test_a_user_who_changed_a_period_is_not_deleted(books: Books) -> None:
    closer = await someone(books, "controller")
    assert (await books.set_period(1, "closed", by=closer)).status_code == 200

    assert_problem(await delete(books, closer), 409, "USER_HAS_HISTORY")


async def test_a_user_who_never_touched_the_books_can_still_be_deleted(books: Books) -> None:
    idle = await someone(books, "accountant")

    response = await delete(books, idle)

    assert response.status_code == 204, response.text
    gone = await books.client.get(f"{USERS}/{idle.id}", headers=books.cast.admin.headers)
    assert gone.status_code == 404


async def test_an_erased_user_keeps_a_name_behind_every_entry_and_nothing_personal(
    books: Books,
) -> None:
    poster = await someone(books, "accountant")
    entry = await books.post(books.debit("cash", "5.00"), books.credit("sales", "5.00"), by=poster)
    moving = await books.client.patch(
        f"{USERS}/me",
        json={"email": f"next-{poster.email}", "current_password": PASSWORD},
        headers=poster.headers,
    )
    assert created(moving, 200)["pending_email"] == f"next-{poster.email}"

    response = await books.client.post(
        f"{USERS}/{poster.id}/erase", headers=books.cast.admin.headers
    )

    erased = created(response, 200)
    assert erased["full_name"] == "Erased user"
    assert erased["email"] == f"erased-{poster.id.hex}@erased.invalid"
    assert erased["username"] is None
    assert erased["pending_email"] is None
    assert erased["is_active"] is False
    for actor in ("created_by", "posted_by"):
        assert (await user(books, entry[actor]))["full_name"] == "Erased user"
    reread = await books.client.get(f"{ENTRIES}/{entry['id']}", headers=books.cast.auditor.headers)
    assert created(reread, 200)["created_by"] == str(poster.id)
    assert await refused_within(books.client, poster)
    login = await books.client.post(
        "/api/v1/auth/login", json={"email": poster.email, "password": PASSWORD}
    )
    assert_problem(login, 401, "INVALID_CREDENTIALS")
    assert_problem(await delete(books, poster), 409, "USER_HAS_HISTORY")


async def test_the_erased_address_is_free_for_a_new_account(books: Books) -> None:
    poster = await someone(books, "accountant")
    await books.post(books.debit("cash", "1.00"), books.credit("sales", "1.00"), by=poster)
    await books.client.post(f"{USERS}/{poster.id}/erase", headers=books.cast.admin.headers)

    again = await books.client.post(
        "/api/v1/auth/register", json={"email": poster.email, "password": PASSWORD}
    )

    assert again.is_success, again.text
    newcomer = await books.client.post(
        "/api/v1/auth/login", json={"email": poster.email, "password": PASSWORD}
    )
    assert newcomer.status_code == 200
    assert newcomer.json()["access_token"] != poster.access_token


async def test_only_users_managers_may_erase(books: Books) -> None:
    target = await someone(books, "accountant")

    response = await books.client.post(
        f"{USERS}/{target.id}/erase", headers=books.cast.controller.headers
    )

    assert_problem(response, 403, "PERMISSION_DENIED")
    assert (await user(books, str(target.id)))["full_name"] != "Erased user"
