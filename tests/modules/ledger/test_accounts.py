"""The chart of accounts: opening, finding, changing and deleting accounts, and the posting
rules that belong to an account (headers, currency, deactivation)."""

from typing import Any

import pytest

from tests.modules.ledger.books import ACCOUNTS, Books, Json, assert_problem, created


async def open_account(books: Books, code: str, kind: str, mfrs_class: str, **extra: Any) -> Json:
    return await books.add_account(books.prefix + code, kind, mfrs_class, **extra)


async def find(books: Books, **params: Any) -> Json:
    response = await books.client.get(ACCOUNTS, params=params, headers=books.cast.auditor.headers)
    return created(response, 200)


async def change(books: Books, account: Json, **changes: Any) -> Any:
    return await books.client.patch(
        f"{ACCOUNTS}/{account['id']}", json=changes, headers=books.cast.accountant.headers
    )


@pytest.mark.parametrize(
    ("kind", "mfrs_class", "normal_balance"),
    [
        ("asset", "non_current_asset", "debit"),
        ("liability", "current_liability", "credit"),
        ("equity", "equity", "credit"),
        ("income", "other_income", "credit"),
        ("expense", "finance_cost", "debit"),
    ],
)
async def test_the_type_of_an_account_fixes_its_normal_balance(
    books: Books, kind: str, mfrs_class: str, normal_balance: str
) -> None:
    account = await open_account(books, "9000", kind, mfrs_class, name="Fresh")

    assert account["normal_balance"] == normal_balance
    assert (account["type"], account["mfrs_class"]) == (kind, mfrs_class)
    assert (account["is_active"], account["is_header"]) == (True, False)
    assert account["parent_code"] is None
    found = await books.client.get(
        f"{ACCOUNTS}/{account['id']}", headers=books.cast.auditor.headers
    )
    assert found.json() == account


@pytest.mark.parametrize(
    ("kind", "mfrs_class"),
    [("asset", "revenue"), ("liability", "current_asset"), ("expense", "other_income")],
)
async def test_an_mfrs_class_that_does_not_fit_the_type_is_refused(
    books: Books, kind: str, mfrs_class: str
) -> None:
    body = {"code": books.prefix + "9000", "name": "Odd", "type": kind, "mfrs_class": mfrs_class}

    response = await books.client.post(ACCOUNTS, json=body, headers=books.cast.accountant.headers)

    assert_problem(response, 422, "INVALID_ACCOUNT")
    assert (await find(books, q=books.prefix + "9000"))["count"] == 0


async def test_account_codes_are_unique(books: Books) -> None:
    body = {"code": books.code("cash"), "name": "Again", "type": "asset"}

    response = await books.client.post(
        ACCOUNTS,
        json={**body, "mfrs_class": "current_asset"},
        headers=books.cast.accountant.headers,
    )

    assert_problem(response, 409, "ACCOUNT_CODE_TAKEN")
    assert [a["name"] for a in (await find(books, q=books.code("cash")))["data"]] == ["Cash"]


async def test_an_account_restricted_to_an_unknown_currency_is_refused(books: Books) -> None:
    body = {
        "code": books.prefix + "9000",
        "name": "Odd",
        "type": "asset",
        "mfrs_class": "current_asset",
        "currency": "ZZZ",
    }

    response = await books.client.post(ACCOUNTS, json=body, headers=books.cast.accountant.headers)

    assert_problem(response, 422, "UNKNOWN_CURRENCY")
    assert (await find(books, q=books.prefix + "9000"))["count"] == 0


async def test_the_chart_filters_by_text_type_class_and_activity(books: Books) -> None:
    await books.add_chart("receivables", "equipment", "payables")
    await change(books, books.accounts["bank"], is_active=False)
    mine = {"q": books.prefix}

    def codes(page: Json) -> list[str]:
        return [account["code"].removeprefix(books.prefix) for account in page["data"]]

    assert codes(await find(books, **mine)) == [
        "1000",
        "1010",
        "1100",
        "1500",
        "2000",
        "3000",
        "4000",
        "6000",
    ]
    assert codes(await find(books, **mine, type="asset")) == ["1000", "1010", "1100", "1500"]
    assert codes(await find(books, **mine, mfrs_class="non_current_asset")) == ["1500"]
    assert codes(await find(books, **mine, is_active=False)) == ["1010"]
    assert codes(await find(books, **mine, type="asset", is_active=True)) == [
        "1000",
        "1100",
        "1500",
    ]
    # the text is looked for in names as well as codes, whatever its case
    assert codes(await find(books, q=f"{books.prefix}1", mfrs_class="current_asset")) == [
        "1000",
        "1010",
        "1100",
    ]
    named = await find(books, q="RECEIVABLES", type="asset")
    assert books.code("receivables") in [account["code"] for account in named["data"]]


async def test_the_chart_comes_a_page_at_a_time_with_the_total_count(books: Books) -> None:
    pages = [await find(books, q=books.prefix, size=2, page=page) for page in (1, 2, 3, 4)]

    assert [page["count"] for page in pages] == [5, 5, 5, 5]
    assert [len(page["data"]) for page in pages] == [2, 2, 1, 0]
    codes = [account["code"] for page in pages for account in page["data"]]
    assert codes == sorted(books.code(name) for name in books.accounts)


async def test_an_unknown_account_is_not_found(books: Books) -> None:
    response = await books.client.get(
        f"{ACCOUNTS}/00000000-0000-0000-0000-000000000000", headers=books.cast.auditor.headers
    )

    assert_problem(response, 404, "ACCOUNT_NOT_FOUND")


async def test_an_account_is_renamed_reclassified_and_deactivated(books: Books) -> None:
    cash = books.accounts["cash"]

    renamed = created(await change(books, cash, name="Petty cash"), 200)
    moved = created(await change(books, cash, mfrs_class="non_current_asset"), 200)
    off = created(await change(books, cash, is_active=False), 200)

    assert renamed["name"] == "Petty cash"
    assert moved["mfrs_class"] == "non_current_asset"
    assert off["is_active"] is False
    found = await books.client.get(f"{ACCOUNTS}/{cash['id']}", headers=books.cast.auditor.headers)
    assert {key: found.json()[key] for key in ("name", "mfrs_class", "is_active", "code")} == {
        "name": "Petty cash",
        "mfrs_class": "non_current_asset",
        "is_active": False,
        "code": cash["code"],
    }


async def test_an_account_cannot_be_reclassified_out_of_its_type(books: Books) -> None:
    response = await change(books, books.accounts["cash"], mfrs_class="revenue")

    assert_problem(response, 422, "INVALID_ACCOUNT")
    assert (await books.read(f"/accounts/{books.id('cash')}"))["mfrs_class"] == "current_asset"


@pytest.mark.parametrize("field", ["name", "mfrs_class", "is_active", "code"])
async def test_a_null_for_a_required_field_is_refused_as_invalid(books: Books, field: str) -> None:
    response = await change(books, books.accounts["cash"], **{field: None})

    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_the_code_of_an_unused_account_can_change(books: Books) -> None:
    changed = created(await change(books, books.accounts["rent"], code=books.prefix + "6100"), 200)

    assert changed["code"] == books.prefix + "6100"
    listed = await find(books, q=books.prefix + "6")
    assert [account["code"] for account in listed["data"]] == [books.prefix + "6100"]


async def test_the_code_cannot_change_to_one_that_is_taken(books: Books) -> None:
    response = await change(books, books.accounts["rent"], code=books.code("cash"))

    assert_problem(response, 409, "ACCOUNT_CODE_TAKEN")
    assert (await books.read(f"/accounts/{books.id('rent')}"))["code"] == books.code("rent")


async def test_the_code_is_fixed_once_the_account_has_entries(books: Books) -> None:
    await books.transfer("cash", "capital", "10.00")

    response = await change(books, books.accounts["cash"], code=books.prefix + "1001")

    assert_problem(response, 409, "ACCOUNT_IN_USE")
    assert (await books.read(f"/accounts/{books.id('cash')}"))["code"] == books.code("cash")
    # other changes still go through
    assert created(await change(books, books.accounts["cash"], name="Till"), 200)["name"] == "Till"


async def test_a_parent_account_is_a_header_and_takes_no_postings(books: Books) -> None:
    parent = await open_account(books, "1200", "asset", "current_asset", name="Deposits")
    child = await open_account(
        books, "1201", "asset", "current_asset", name="Rent deposit", parent_code=parent["code"]
    )
    before = await books.snapshot()

    response = await books.create(
        books.debit(parent["code"], "50.00"), books.credit("capital", "50.00"), post=True
    )

    assert_problem(response, 422, "ACCOUNT_NOT_POSTABLE")
    assert await books.snapshot() == before
    assert (await books.read(f"/accounts/{parent['id']}"))["is_header"] is True
    assert child["parent_code"] == parent["code"]
    assert child["is_header"] is False
    await books.post(books.debit(child["code"], "50.00"), books.credit("capital", "50.00"))


async def test_an_account_with_entries_cannot_become_a_parent(books: Books) -> None:
    await books.transfer("cash", "capital", "10.00")
    body = {
        "code": books.prefix + "1001",
        "name": "Sub",
        "type": "asset",
        "mfrs_class": "current_asset",
        "parent_code": books.code("cash"),
    }

    response = await books.client.post(ACCOUNTS, json=body, headers=books.cast.accountant.headers)

    assert_problem(response, 422, "INVALID_ACCOUNT")
    assert (await books.read(f"/accounts/{books.id('cash')}"))["is_header"] is False
    moved = await change(books, books.accounts["bank"], parent_code=books.code("cash"))
    assert_problem(moved, 422, "INVALID_ACCOUNT")
    assert (await books.read(f"/accounts/{books.id('bank')}"))["parent_code"] is None


async def test_a_sub_account_has_its_parent_s_type(books: Books) -> None:
    response = await change(books, books.accounts["rent"], parent_code=books.code("bank"))

    assert_problem(response, 422, "INVALID_ACCOUNT")
    assert (await books.read(f"/accounts/{books.id('rent')}"))["parent_code"] is None


async def test_accounts_cannot_form_a_cycle(books: Books) -> None:
    top = await open_account(books, "1200", "asset", "current_asset")
    middle = await open_account(books, "1210", "asset", "current_asset", parent_code=top["code"])
    bottom = await open_account(books, "1211", "asset", "current_asset", parent_code=middle["code"])

    under_grandchild = await change(books, top, parent_code=bottom["code"])
    under_itself = await change(books, top, parent_code=top["code"])

    assert_problem(under_grandchild, 422, "INVALID_ACCOUNT")
    assert_problem(under_itself, 422, "INVALID_ACCOUNT")
    assert (await books.read(f"/accounts/{top['id']}"))["parent_code"] is None


async def test_an_account_moves_under_a_parent_and_back_out(books: Books) -> None:
    deposits = await open_account(books, "1200", "asset", "current_asset")

    moved = created(await change(books, books.accounts["bank"], parent_code=deposits["code"]), 200)
    assert moved["parent_code"] == deposits["code"]
    assert (await books.read(f"/accounts/{deposits['id']}"))["is_header"] is True

    back = created(await change(books, books.accounts["bank"], parent_code=None), 200)
    assert back["parent_code"] is None
    assert (await books.read(f"/accounts/{deposits['id']}"))["is_header"] is False


async def test_an_unused_account_is_deleted(books: Books) -> None:
    response = await books.client.delete(
        f"{ACCOUNTS}/{books.id('rent')}", headers=books.cast.accountant.headers
    )

    assert response.status_code == 204
    gone = await books.client.get(
        f"{ACCOUNTS}/{books.id('rent')}", headers=books.cast.auditor.headers
    )
    assert_problem(gone, 404, "ACCOUNT_NOT_FOUND")


async def test_an_account_with_entries_is_never_deleted(books: Books) -> None:
    await books.transfer("cash", "capital", "10.00")

    response = await books.client.delete(
        f"{ACCOUNTS}/{books.id('cash')}", headers=books.cast.accountant.headers
    )

    assert_problem(response, 409, "ACCOUNT_IN_USE")
    assert await books.balance("cash") == "10.00"


async def test_an_account_with_only_a_draft_is_not_deleted_either(books: Books) -> None:
    created(await books.create(books.debit("cash", "10.00"), books.credit("capital", "10.00")))

    response = await books.client.delete(
        f"{ACCOUNTS}/{books.id('cash')}", headers=books.cast.accountant.headers
    )

    assert_problem(response, 409, "ACCOUNT_IN_USE")


async def test_a_parent_account_is_not_deleted_while_it_has_sub_accounts(books: Books) -> None:
    parent = await open_account(books, "1200", "asset", "current_asset")
    await open_account(books, "1201", "asset", "current_asset", parent_code=parent["code"])

    response = await books.client.delete(
        f"{ACCOUNTS}/{parent['id']}", headers=books.cast.accountant.headers
    )

    assert_problem(response, 409, "ACCOUNT_IN_USE")
    assert (await books.read(f"/accounts/{parent['id']}"))["is_header"] is True


async def test_an_account_in_one_currency_refuses_lines_in_another(books: Books) -> None:
    usd = await open_account(books, "1020", "asset", "current_asset", currency="USD")
    books.accounts["usd"] = usd
    before = await books.snapshot()

    refused = await books.create(
        books.debit(usd["code"], "42.00"), books.credit("capital", "42.00"), post=True
    )

    body = assert_problem(refused, 422, "CURRENCY_NOT_ALLOWED")
    assert usd["code"] in body["detail"]
    assert await books.snapshot() == before
    await books.post(
        books.debit(usd["code"], "10.00", currency="USD", rate="4.2"),
        books.credit("capital", "42.00"),
    )
    assert await books.balance("usd") == "42.00"


async def test_a_deactivated_account_refuses_postings(books: Books) -> None:
    await change(books, books.accounts["cash"], is_active=False)
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00"), books.credit("capital", "10.00"), post=True
    )

    assert_problem(response, 422, "ACCOUNT_INACTIVE")
    assert await books.snapshot() == before
    await change(books, books.accounts["cash"], is_active=True)
    await books.transfer("cash", "capital", "10.00")
    assert await books.balance("cash") == "10.00"
