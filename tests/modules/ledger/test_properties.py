"""Random sessions of bookkeeping through HTTP keep the books consistent.

Hypothesis' stateful testing draws sequences of actions: post a balanced entry (some lines in
USD at a random rate), attempt an unbalanced one, reverse a posted entry, close or reopen a
period. A model predicts each answer, and after every step the books are checked: the trial
balance balances, total assets equal total equity and liabilities, every account's balance
equals the model's and the sum of its posted lines in its ledger, and every reversal nets its
original to zero.

Hypothesis and asyncio: the app and its client live in the session's event loop, where this
test runs, and Hypothesis drives a synchronous state machine. So the machine runs in a worker
thread (`asyncio.to_thread`) and hands each HTTP call back to the loop
(`run_coroutine_threadsafe`), waiting for its answer: Hypothesis draws, runs and shrinks real
examples while the loop stays free to serve them. Each example gets books of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.modules.ledger.books import Books, Json, Office, assert_problem, created

T = TypeVar("T")
ACCOUNTS = ("cash", "bank", "capital", "rent")  # debit- and credit-normal, in each statement
DEBIT_NORMAL = {"cash", "bank", "rent"}
CLOSABLE = (1, 2, 3)  # entries fall in January to April; April always stays open
SESSIONS = settings(
    max_examples=8,
    stateful_step_count=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Bridge:
    """Runs coroutines on the test's event loop from Hypothesis' thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, office: Office) -> None:
        self.loop = loop
        self.office = office

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=120)


@dataclass(frozen=True)
class Line:
    account: str
    side: str
    cents: int  # of its own currency
    rate: Decimal | None = None  # None: MYR

    @property
    def functional(self) -> int:
        if self.rate is None:
            return self.cents
        return int((self.cents * self.rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def as_json(self, books: Books) -> Json:
        amount = f"{self.cents // 100}.{self.cents % 100:02d}"
        if self.rate is None:
            return {"account_code": books.code(self.account), "side": self.side, "amount": amount}
        return {
            "account_code": books.code(self.account),
            "side": self.side,
            "amount": amount,
            "currency": "USD",
            "rate": str(self.rate),
        }


@dataclass(frozen=True)
class Draft:
    month: int
    day: int
    lines: tuple[Line, ...]


rates = st.decimals(min_value="0.5", max_value="5", places=4)
accounts = st.sampled_from(ACCOUNTS)


@st.composite
def balanced(draw: st.DrawFn) -> Draft:
    """1 to 3 debits (MYR or USD, at most 3,000.00 MYR each), credited in MYR to 1 or 2 accounts:
    never above the approval threshold."""
    debits = draw(
        st.lists(
            st.builds(
                Line,
                account=accounts,
                side=st.just("debit"),
                cents=st.integers(1, 60_000),
                rate=st.one_of(st.none(), rates),
            ),
            min_size=1,
            max_size=3,
        )
    )
    total = sum(line.functional for line in debits)
    payers = draw(st.lists(accounts, min_size=1, max_size=2))
    if len(payers) == 2 and total > 1:
        first = draw(st.integers(1, total - 1))
        credits = [Line(payers[0], "credit", first), Line(payers[1], "credit", total - first)]
    else:
        credits = [Line(payers[0], "credit", total)]
    month = draw(st.integers(1, 4))
    return Draft(month=month, day=draw(st.integers(1, 28)), lines=(*debits, *credits))


def signed(line: Line) -> int:
    """Debit-positive MYR minor units."""
    return line.functional if line.side == "debit" else -line.functional


class Session(RuleBasedStateMachine):
    bridge: ClassVar[Bridge]

    def __init__(self) -> None:
        super().__init__()
        self.books = self.http(self.bridge.office.new_books(*ACCOUNTS))
        self.expected = dict.fromkeys(ACCOUNTS, 0)  # debit-positive minor units
        self.open = dict.fromkeys(range(1, 13), True)
        self.live: list[Json] = []  # posted entries not reversed
        self.reversals: list[tuple[str, str]] = []  # (original id, reversal id)

    def http(self, work: Coroutine[Any, Any, T]) -> T:
        return self.bridge.run(work)

    def day(self, month: int, day: int) -> str:
        return date(self.books.year, month, day).isoformat()

    @rule(draft=balanced())
    def post_a_balanced_entry(self, draft: Draft) -> None:
        lines = [line.as_json(self.books) for line in draft.lines]
        response = self.http(
            self.books.create(*lines, on=self.day(draft.month, draft.day), post=True)
        )
        if not self.open[draft.month]:
            assert_problem(response, 422, "PERIOD_CLOSED")
            return
        entry = created(response)
        assert entry["status"] == "posted"
        assert [line["functional_amount"] for line in entry["lines"]] == [
            f"{line.functional / 100:.2f}" for line in draft.lines
        ]
        for line in draft.lines:
            self.expected[line.account] += signed(line)
        self.live.append(entry)

    @rule(draft=balanced(), cents=st.integers(1, 100))
    def attempt_an_unbalanced_entry(self, draft: Draft, cents: int) -> None:
        *others, last = draft.lines
        lines = [*others, Line(last.account, last.side, last.cents + cents)]
        response = self.http(
            self.books.create(
                *(line.as_json(self.books) for line in lines),
                on=self.day(draft.month, draft.day),
                post=True,
            )
        )
        assert_problem(response, 422, "ENTRY_UNBALANCED")

    @precondition(lambda self: bool(self.live))
    @rule(pick=st.integers(min_value=0))
    def reverse_a_posted_entry(self, pick: int) -> None:
        original = self.live.pop(pick % len(self.live))
        posted_on = date.fromisoformat(original["entry_date"])
        month = next(m for m in range(posted_on.month, 13) if self.open[m])
        expected_day = posted_on if month == posted_on.month else date(posted_on.year, month, 1)

        response = self.http(self.books.act(original["id"], "reverse", self.books.cast.accountant))

        reversal = created(response)
        assert reversal["entry_date"] == expected_day.isoformat()
        for line in original["lines"]:
            account = self.account_named(line["account_code"])
            amount = int(line["functional_amount"].replace(".", ""))
            self.expected[account] -= amount if line["side"] == "debit" else -amount
        self.live.append(reversal)
        self.reversals.append((original["id"], reversal["id"]))

    @precondition(lambda self: any(self.open[month] for month in CLOSABLE))
    @rule(data=st.data())
    def close_a_period(self, data: st.DataObject) -> None:
        month = data.draw(st.sampled_from([m for m in CLOSABLE if self.open[m]]))
        assert created(self.http(self.books.set_period(month, "closed")), 200)["status"] == "closed"
        self.open[month] = False

    @precondition(lambda self: not all(self.open[month] for month in CLOSABLE))
    @rule(data=st.data())
    def reopen_a_period(self, data: st.DataObject) -> None:
        month = data.draw(st.sampled_from([m for m in CLOSABLE if not self.open[m]]))
        silent = self.http(self.books.set_period(month, "open"))
        assert_problem(silent, 409, "PERIOD_STATE_INVALID")
        reopened = self.http(self.books.set_period(month, "open", "Correction"))
        assert created(reopened, 200)["status"] == "open"
        self.open[month] = True

    def account_named(self, code: str) -> str:
        return next(name for name in ACCOUNTS if self.books.code(name) == code)

    @invariant()
    def the_books_are_consistent(self) -> None:
        self.http(self.check())

    async def check(self) -> None:
        books = self.books
        report, position = await asyncio.gather(
            books.trial_balance(end="2999-12-31"),
            books.read("/reports/financial-position", as_of=books.day(12, 31)),
        )
        await asyncio.gather(
            *(self.check_account(name) for name in ACCOUNTS),
            *(self.check_reversal(*pair) for pair in self.reversals),
        )
        assert report["total_debits"] == report["total_credits"]
        for column in ("amount", "comparative"):
            totals = {line["key"]: line[column] for line in position["lines"]}
            assert totals["total_assets"] == totals["total_equity_and_liabilities"]

    async def check_account(self, name: str) -> None:
        balance = Decimal(await self.books.balance(name))
        ledger = await self.books.read(f"/accounts/{self.books.id(name)}/ledger", size=1000)
        assert ledger["next_cursor"] is None
        movements = sum(
            (Decimal(line["debit"]) - Decimal(line["credit"]) for line in ledger["data"]),
            Decimal(0),
        )
        normal = 1 if name in DEBIT_NORMAL else -1
        assert balance == movements * normal
        assert balance == Decimal(self.expected[name] * normal) / 100
        if ledger["data"]:
            assert Decimal(ledger["data"][-1]["running_balance"]) == balance

    async def check_reversal(self, original_id: str, reversal_id: str) -> None:
        original = await self.books.get_entry(original_id)
        reversal = await self.books.get_entry(reversal_id)
        assert original["reversed_by"] == reversal_id
        assert reversal["reversal_of"] == original_id
        net: dict[str, Decimal] = {}
        for line in original["lines"] + reversal["lines"]:
            sign = 1 if line["side"] == "debit" else -1
            amount = sign * Decimal(line["functional_amount"])
            net[line["account_code"]] = net.get(line["account_code"], Decimal(0)) + amount
        assert set(net.values()) == {Decimal(0)}


async def test_random_bookkeeping_sessions_keep_the_books_consistent(office: Office) -> None:
    class OnThisLoop(Session):
        bridge = Bridge(asyncio.get_running_loop(), office)

    await asyncio.to_thread(run_state_machine_as_test, OnThisLoop, settings=SESSIONS)
