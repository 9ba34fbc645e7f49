"""Many clients posting at once to the same accounts: nothing lost, repeated or half-posted."""

import asyncio
import random
import uuid

import httpx

from tests.databases import ON_POSTGRES
from tests.modules.ledger.books import ENTRIES, Books, Json

CLIENTS = 24 if ON_POSTGRES else 6
TRANSFERS_EACH = 5
ACCOUNTS = ("cash", "bank", "rent")


async def _post_with_retries(books: Books, body: Json, key: str) -> httpx.Response:
    """A client that retries 503s, as told, with the same Idempotency-Key."""
    headers = {**books.cast.accountant.headers, "Idempotency-Key": key}
    for _ in range(20):
        response = await books.client.post(ENTRIES, json=body, headers=headers)
        if response.status_code != 503:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")) / 10)
    return response


async def _client(books: Books, seed: int) -> list[Json]:
    chooser = random.Random(seed)
    acknowledged = []
    for _ in range(TRANSFERS_EACH):
        debit, credit = chooser.sample(ACCOUNTS, 2)
        amount = f"{chooser.randint(1, 50_000) / 100:.2f}"
        body = books.entry(books.debit(debit, amount), books.credit(credit, amount), post=True)
        response = await _post_with_retries(books, body, key=str(uuid.uuid4()))
        assert response.status_code == 201, response.text
        acknowledged.append(response.json())
    return acknowledged


async def test_concurrent_transfers_keep_every_total_and_number(books: Books) -> None:
    await books.transfer("cash", "capital", "9000.00")
    before = await books.balances(*ACCOUNTS)

    results = await asyncio.gather(*(_client(books, seed) for seed in range(CLIENTS)))
    acknowledged = [entry for client in results for entry in client]

    numbers = sorted(entry["number"] for entry in acknowledged)
    assert numbers == [books.number(sequence) for sequence in range(2, len(acknowledged) + 2)]
    for entry in acknowledged:
        stored = await books.get_entry(entry["id"])
        assert stored["status"] == "posted"
        assert stored["number"] == entry["number"]
    after = await books.balances(*ACCOUNTS)
    # rent is an expense: debit-normal like the two asset accounts, so the sum is unchanged
    assert sum(_cents(after[name]) for name in ACCOUNTS) == sum(
        _cents(before[name]) for name in ACCOUNTS
    )
    trial_balance = await books.trial_balance()
    assert trial_balance["total_debits"] == trial_balance["total_credits"]
    for name in ACCOUNTS:
        assert _cents(after[name]) == await _sum_of_lines(books, name)


async def test_every_post_touching_one_hot_account_succeeds(books: Books) -> None:
    async def pay_rent(amount: str) -> httpx.Response:
        body = books.entry(books.debit("rent", amount), books.credit("cash", amount), post=True)
        return await _post_with_retries(books, body, key=str(uuid.uuid4()))

    amounts = [f"{cents / 100:.2f}" for cents in range(100, 100 + CLIENTS * 2)]
    responses = await asyncio.gather(*(pay_rent(amount) for amount in amounts))

    assert [response.status_code for response in responses] == [201] * len(amounts)
    paid = sum(int(amount.replace(".", "")) for amount in amounts)
    assert _cents(await books.balance("cash")) == -paid
    assert _cents(await books.balance("rent")) == paid


def _cents(amount: str) -> int:
    return int(amount.replace(".", ""))


async def _sum_of_lines(books: Books, account: str) -> int:
    """The account's balance added up line by line from its ledger, page after page."""
    total, cursor = 0, None
    while True:
        params: Json = {"size": 50, **({"cursor": cursor} if cursor else {})}
        page = await books.read(f"/accounts/{books.id(account)}/ledger", **params)
        for line in page["data"]:
            total += _cents(line["debit"]) - _cents(line["credit"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total
