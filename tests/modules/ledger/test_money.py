"""Money: decimal strings in exact minor units per currency, and conversion to the functional
currency (MYR) at the rate of the day, rounded half up, in which every entry balances."""

from decimal import Decimal

import pytest

from tests.modules.ledger.books import LEDGER, Books, assert_problem, created


async def test_amounts_are_decimal_strings_shown_with_the_currency_s_decimals(
    books: Books,
) -> None:
    entry = await books.transfer("cash", "capital", "100")

    assert [line["amount"] for line in entry["lines"]] == ["100.00", "100.00"]
    assert entry["total"] == "100.00"
    assert entry["currency"] == "MYR"
    assert await books.balance("cash") == "100.00"


async def test_an_amount_sent_as_a_json_number_is_refused_not_read_as_a_float(
    books: Books,
) -> None:
    before = await books.snapshot()
    line = {"account_code": books.code("cash"), "side": "debit", "amount": 0.1}

    response = await books.create(line, books.credit("capital", "0.10"), post=True)

    assert_problem(response, 422, "VALIDATION_FAILED")
    assert await books.snapshot() == before


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("MYR", "10.001"), ("JPY", "100.5"), ("KWD", "1.2345"), ("USD", "0.001")],
)
async def test_more_decimals_than_the_currency_has_are_refused_never_rounded(
    books: Books, currency: str, amount: str
) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", amount, currency=currency, rate="1.5"),
        books.credit("capital", "1.00"),
        post=True,
    )

    body = assert_problem(response, 422, "INVALID_AMOUNT")
    assert amount in body["detail"]
    assert await books.snapshot() == before


async def test_a_draft_with_too_many_decimals_is_refused_as_well(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(books.debit("cash", "10.001"), books.credit("capital", "10.00"))

    assert_problem(response, 422, "INVALID_AMOUNT")
    assert await books.snapshot() == before


async def test_yen_take_no_decimals_and_dinars_three(books: Books) -> None:
    # 1000 JPY at 0.0295 = 29.50 MYR; 1.234 KWD at 14.5 = 17.893 -> 17.89 MYR
    entry = await books.post(
        books.debit("cash", "1000", currency="JPY", rate="0.0295"),
        books.debit("bank", "1.234", currency="KWD", rate="14.5"),
        books.credit("capital", "47.39"),
    )

    yen, dinars, _ = entry["lines"]
    assert (yen["amount"], yen["currency"], yen["functional_amount"]) == ("1000", "JPY", "29.50")
    assert (dinars["amount"], dinars["currency"], dinars["functional_amount"]) == (
        "1.234",
        "KWD",
        "17.89",
    )
    assert await books.balance("cash") == "29.50"
    assert await books.balance("bank") == "17.89"


async def test_an_unknown_currency_is_refused(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00", currency="ZZZ", rate="1"),
        books.credit("capital", "10.00"),
        post=True,
    )

    assert_problem(response, 422, "UNKNOWN_CURRENCY")
    assert await books.snapshot() == before


async def test_a_foreign_line_takes_the_rate_in_force_on_the_entry_date(books: Books) -> None:
    await books.set_rate("USD", books.day(1, 1), "4.2125")
    await books.set_rate("USD", books.day(3, 1), "4.5")

    january = await books.post(
        books.debit("bank", "10.00", currency="USD"),
        books.credit("capital", "42.13"),
        on=books.day(2, 28),
    )
    march = await books.post(
        books.debit("bank", "10.00", currency="USD"),
        books.credit("capital", "45.00"),
        on=books.day(3, 1),
    )

    assert january["lines"][0]["rate"] == "4.2125"
    assert january["lines"][0]["functional_amount"] == "42.13"  # 42.125 rounds half up
    assert march["lines"][0]["rate"] == "4.5"
    assert march["lines"][0]["functional_amount"] == "45.00"
    assert await books.balance("bank") == "87.13"


async def test_the_rate_table_answers_with_the_rate_in_force_on_a_day(books: Books) -> None:
    await books.set_rate("USD", books.day(1, 1), "4.2125")
    await books.set_rate("USD", books.day(3, 1), "4.5")

    found = await books.client.get(
        "/api/v1/ledger/exchange-rates",
        params={"currency": "USD", "on": books.day(2, 15)},
        headers=books.cast.auditor.headers,
    )

    assert found.status_code == 200
    [rate] = found.json()
    assert (rate["currency"], rate["effective_date"]) == ("USD", books.day(1, 1))
    assert Decimal(rate["rate"]) == Decimal("4.2125")


async def test_a_rate_given_on_the_line_wins_over_the_table(books: Books) -> None:
    await books.set_rate("USD", books.day(1, 1), "4.2125")

    entry = await books.post(
        books.debit("bank", "10.00", currency="USD", rate="4.1"),
        books.credit("capital", "41.00"),
    )

    assert entry["lines"][0]["rate"] == "4.1"
    assert entry["lines"][0]["functional_amount"] == "41.00"


async def test_the_functional_amount_is_rounded_half_up(books: Books) -> None:
    # 0.01 USD at 0.5 is 0.005 MYR, which rounds up to 0.01
    entry = await books.post(
        books.debit("bank", "0.01", currency="USD", rate="0.5"),
        books.credit("capital", "0.01"),
    )

    assert entry["lines"][0]["functional_amount"] == "0.01"
    assert entry["total"] == "0.01"


async def test_a_foreign_amount_worth_nothing_in_the_functional_currency_is_refused(
    books: Books,
) -> None:
    # 0.01 USD at 0.3 is 0.003 MYR, which rounds to nothing
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "0.01", currency="USD", rate="0.3"),
        books.debit("cash", "1.00"),
        books.credit("capital", "1.00"),
        post=True,
    )

    assert_problem(response, 422, "LINE_INVALID")
    assert await books.snapshot() == before


async def test_without_a_rate_for_the_date_a_foreign_line_is_refused(books: Books) -> None:
    # No one sets a CHF rate anywhere in these tests.
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "10.00", currency="CHF"), books.credit("capital", "48.00"), post=True
    )

    body = assert_problem(response, 422, "EXCHANGE_RATE_MISSING")
    assert "CHF" in body["detail"]
    assert await books.snapshot() == before


async def test_a_rate_set_later_than_the_entry_date_does_not_apply(books: Books) -> None:
    await books.set_rate("SGD", books.day(6, 1), "3.3")
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "10.00", currency="SGD"),
        books.credit("capital", "33.00"),
        on=books.day(5, 31),
        post=True,
    )

    assert_problem(response, 422, "EXCHANGE_RATE_MISSING")
    assert await books.snapshot() == before


async def test_entries_balance_in_the_functional_currency_after_rounding(books: Books) -> None:
    # 10.00 USD at 4.2125 is 42.13 MYR once rounded: a 42.12 credit leaves it unbalanced
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "10.00", currency="USD", rate="4.2125"),
        books.credit("capital", "42.12"),
        post=True,
    )

    assert_problem(response, 422, "ENTRY_UNBALANCED")
    assert await books.snapshot() == before


async def test_lines_in_two_foreign_currencies_balance_through_their_functional_amounts(
    books: Books,
) -> None:
    entry = await books.post(
        books.debit("bank", "100.00", currency="USD", rate="4.2125"),
        books.credit("cash", "90.25", currency="EUR", rate="4.6676"),
    )

    assert [line["functional_amount"] for line in entry["lines"]] == ["421.25", "421.25"]
    assert entry["total"] == "421.25"


async def test_the_functional_currency_takes_no_other_rate_than_one(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("cash", "10.00", rate="2"), books.credit("capital", "10.00"), post=True
    )

    assert_problem(response, 422, "LINE_INVALID")
    assert await books.snapshot() == before


async def test_the_functional_currency_has_no_rate_of_its_own_in_the_table(books: Books) -> None:
    response = await books.client.post(
        "/api/v1/ledger/exchange-rates",
        json={"currency": "MYR", "effective_date": books.day(1, 1), "rate": "2"},
        headers=books.cast.accountant.headers,
    )

    assert_problem(response, 422, "INVALID_AMOUNT")
    listed = await books.client.get(
        "/api/v1/ledger/exchange-rates",
        params={"currency": "MYR"},
        headers=books.cast.accountant.headers,
    )
    assert listed.json() == []


async def test_a_rate_set_again_for_the_same_day_replaces_it(books: Books) -> None:
    await books.set_rate("GBP", books.day(1, 1), "5.5")
    await books.set_rate("GBP", books.day(1, 1), "5.6")

    entry = created(
        await books.create(
            books.debit("bank", "1.00", currency="GBP"), books.credit("capital", "5.60")
        )
    )

    assert entry["lines"][0]["rate"] == "5.6"


async def test_a_foreign_amount_too_large_once_converted_is_refused(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        books.debit("bank", "99999999999.99", currency="USD", rate="1000"),
        books.credit("capital", "1.00"),
    )

    assert_problem(response, 422, "INVALID_AMOUNT")
    assert await books.snapshot() == before


async def test_a_line_too_large_is_refused_naming_it(books: Books) -> None:
    before = await books.snapshot()

    response = await books.create(
        *(books.debit("bank", "999999999999999.99") for _ in range(100)),
        books.credit("capital", "1.00"),
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {error["field"] for error in body["errors"]} == {
        f"body.lines.{index}.amount" for index in range(100)
    }
    assert await books.snapshot() == before


async def test_rates_read_back_as_they_were_given(books: Books) -> None:
    await books.set_rate("JPY", books.day(1, 1), "0.0285")
    await books.set_rate("KWD", books.day(1, 1), "15")

    response = await books.client.get(
        f"{LEDGER}/exchange-rates",
        params={"on": books.day(1, 2)},
        headers=books.cast.auditor.headers,
    )

    found = {rate["currency"]: rate["rate"] for rate in response.json()}
    assert (found["JPY"], found["KWD"]) == ("0.0285", "15")
