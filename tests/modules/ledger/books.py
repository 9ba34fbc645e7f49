"""Books of their own for every ledger test.

The whole test run shares one database, fiscal years may not overlap, and entry numbers,
balances and reports are only predictable in books no one else writes to. A fresh database per
test costs a second or more on PostgreSQL (creating and dropping it) plus the argon2 work of
signing a cast of people in; so the ledger tests get a fresh database, app, client and cast of
their own (`Office`, one for the package; a module that reads whole-database totals or lists, like
the statements, takes one of its own: `office = office_of_its_own()`), and in it each test opens its
own `Books`: a January-to-December fiscal year four years away from any other test's (so no
comparative column reaches another test's figures) and its own accounts, whose codes carry a prefix
no other test uses. In a test's books entry numbers start at JE-<year>-000001 and every balance
starts at zero.
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.app import create_app
from aibos.platform.db import create_engine
from aibos.platform.migrations import upgrade
from aibos.platform.settings import Settings
from tests.conftest import serve, settings_for_tests
from tests.databases import throwaway_database
from tests.people import Person, admin, sign_up, with_roles

LEDGER = "/api/v1/ledger"
ACCOUNTS = f"{LEDGER}/accounts"
ENTRIES = f"{LEDGER}/entries"
PROBLEM = "application/problem+json"
FIRST_YEAR = 2030  # tests that open years by hand stay before it
FIRST_PAST_YEAR = 1950  # books of years that have ended, for closing them
YEAR_STEP = 4  # a test may also open the year before or after its own

Json = dict[str, Any]

# name: (code after the prefix, type, MFRS class)
CHART = {
    "cash": ("1000", "asset", "current_asset"),
    "bank": ("1010", "asset", "current_asset"),
    "receivables": ("1100", "asset", "current_asset"),
    "equipment": ("1500", "asset", "non_current_asset"),
    "payables": ("2000", "liability", "current_liability"),
    "loan": ("2500", "liability", "non_current_liability"),
    "capital": ("3000", "equity", "equity"),
    "sales": ("4000", "income", "revenue"),
    "other_income": ("4100", "income", "other_income"),
    "cost_of_sales": ("5000", "expense", "cost_of_sales"),
    "rent": ("6000", "expense", "operating_expense"),
    "interest": ("7000", "expense", "finance_cost"),
    "tax": ("8000", "expense", "tax_expense"),
}
DEFAULT_CHART = ("cash", "bank", "capital", "sales", "rent")


@dataclass(frozen=True)
class Cast:
    admin: Person
    accountant: Person
    controller: Person
    auditor: Person
    member: Person
    keeper: Person  # accountant and controller at once

    def by_role(self, role: str) -> Person:
        person: Person = getattr(self, role)
        return person


@dataclass
class Office:
    """One fresh database with its app, client and cast of people, for one test module."""

    url: str
    app: FastAPI
    client: httpx.AsyncClient
    cast: Cast
    _years: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_YEAR, YEAR_STEP))
    _past_years: Iterator[int] = field(
        default_factory=lambda: itertools.count(FIRST_PAST_YEAR, YEAR_STEP)
    )
    _prefixes: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def new_books(self, *accounts: str, past: bool = False) -> Books:
        """A fiscal year and accounts of one test's own (by default the few most tests use); a
        year long over when `past`, so that it can be closed."""
        year = next(self._past_years if past else self._years)
        books = Books(office=self, year=year, prefix=f"K{next(self._prefixes):03d}-")
        books.fiscal_year = await books.open_year(date(year, 1, 1))
        await books.add_chart(*(accounts or DEFAULT_CHART))
        return books


def settings_for(url: str, **overrides: Any) -> Settings:
    return settings_for_tests(url, f"aibos-test-ledger-{uuid.uuid4().hex[:8]}", **overrides)


@asynccontextmanager
async def open_office() -> AsyncIterator[Office]:
    async with throwaway_database() as url:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        await upgrade(engine)
        await engine.dispose()
        app = create_app(settings_for(url))
        async with serve(app) as client:
            boss = await admin(app, client)
            cast = Cast(
                admin=boss,
                accountant=await with_roles(app, client, "accountant", by=boss),
                controller=await with_roles(app, client, "controller", by=boss),
                auditor=await with_roles(app, client, "auditor", by=boss),
                member=await sign_up(client),
                keeper=await with_roles(app, client, "accountant", "controller", by=boss),
            )
            yield Office(url=url, app=app, client=client, cast=cast)


def office_of_its_own(scope: Literal["module", "package"] = "module") -> Any:
    """The `office` fixture of the module (or package) that assigns it: a database of its own."""

    @pytest.fixture(scope=scope, name="office")
    async def office() -> AsyncIterator[Office]:
        async with open_office() as office:
            yield office

    return office


def assert_problem(response: httpx.Response, status: int, code: str) -> Json:
    request = response.request
    assert response.status_code == status, f"{request.method} {request.url}: {response.text}"
    assert response.headers["content-type"] == PROBLEM
    body: Json = response.json()
    assert body["error_code"] == code, body
    assert body["detail"]
    return body


def created(response: httpx.Response, status: int = 201) -> Json:
    request = response.request
    assert response.status_code == status, f"{request.method} {request.url}: {response.text}"
    body: Json = response.json()
    return body


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text)))


@dataclass(frozen=True)
class Snapshot:
    """What a user can see of everything written: how many entries, and the trial balance."""

    entries: int
    trial_balance: Json


@dataclass
class Books:
    """One test's fiscal year (January to December of `year`) and chart of accounts."""

    office: Office
    year: int
    prefix: str
    fiscal_year: Json = field(default_factory=dict)
    accounts: dict[str, Json] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.office.client

    @property
    def cast(self) -> Cast:
        return self.office.cast

    # Names

    def code(self, account: str) -> str:
        """The code of a chart account by its name; any other string is taken as a code."""
        return str(self.accounts[account]["code"]) if account in self.accounts else account

    def id(self, account: str) -> str:
        return str(self.accounts[account]["id"])

    def day(self, month: int, day: int, year_offset: int = 0) -> str:
        return date(self.year + year_offset, month, day).isoformat()

    def period(self, month: int) -> Json:
        period: Json = self.fiscal_year["periods"][month - 1]
        return period

    def number(self, sequence: int) -> str:
        return f"JE-{self.year}-{sequence:06d}"

    # Chart, years, periods

    async def add_chart(self, *names: str) -> None:
        """Open these accounts of CHART, each under its name."""
        for name in names:
            code, kind, mfrs_class = CHART[name]
            self.accounts[name] = await self.add_account(
                self.prefix + code, kind, mfrs_class, name=name.replace("_", " ").title()
            )

    async def add_account(
        self, code: str, kind: str, mfrs_class: str, *, name: str = "Account", **extra: Any
    ) -> Json:
        body = {"code": code, "name": name, "type": kind, "mfrs_class": mfrs_class, **extra}
        response = await self.client.post(ACCOUNTS, json=body, headers=self.cast.accountant.headers)
        return created(response)

    async def open_year(self, start: date) -> Json:
        response = await self.client.post(
            f"{LEDGER}/fiscal-years",
            json={"start_date": start.isoformat()},
            headers=self.cast.controller.headers,
        )
        return created(response)

    async def set_period(
        self, month: int, status: str, reason: str = "", *, by: Person | None = None
    ) -> httpx.Response:
        return await self.client.patch(
            f"{LEDGER}/periods/{self.period(month)['id']}",
            json={"status": status, "reason": reason},
            headers=(by or self.cast.controller).headers,
        )

    async def set_rate(self, currency: str, effective: str, rate: str) -> None:
        response = await self.client.post(
            f"{LEDGER}/exchange-rates",
            json={"currency": currency, "effective_date": effective, "rate": rate},
            headers=self.cast.accountant.headers,
        )
        created(response)

    # Entries

    def debit(self, account: str, amount: str, **extra: Any) -> Json:
        return {"account_code": self.code(account), "side": "debit", "amount": amount, **extra}

    def credit(self, account: str, amount: str, **extra: Any) -> Json:
        return {"account_code": self.code(account), "side": "credit", "amount": amount, **extra}

    def entry(self, *lines: Json, on: str | None = None, **extra: Any) -> Json:
        return {
            "entry_date": on or self.day(1, 15),
            "description": "Test entry",
            "lines": list(lines),
            **extra,
        }

    async def create(
        self,
        *lines: Json,
        on: str | None = None,
        post: bool = False,
        by: Person | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = self.entry(*lines, on=on, post=post, **extra)
        return await self.client.post(
            ENTRIES, json=body, headers={**(by or self.cast.accountant).headers, **(headers or {})}
        )

    async def post(self, *lines: Json, on: str | None = None, by: Person | None = None) -> Json:
        """Post an entry that must post at once."""
        entry = created(await self.create(*lines, on=on, post=True, by=by))
        assert entry["status"] == "posted", entry
        return entry

    async def transfer(
        self, debit: str, credit: str, amount: str, *, on: str | None = None
    ) -> Json:
        """Post a two-line entry: `amount` from `credit` to `debit`."""
        return await self.post(self.debit(debit, amount), self.credit(credit, amount), on=on)

    async def get_entry(self, entry_id: str) -> Json:
        response = await self.client.get(f"{ENTRIES}/{entry_id}", headers=self.cast.auditor.headers)
        return created(response, 200)

    async def act(self, entry_id: str, action: str, by: Person, **kwargs: Any) -> httpx.Response:
        """POST /entries/{id}/{action}: post, approve or reverse."""
        return await self.client.post(
            f"{ENTRIES}/{entry_id}/{action}", headers=by.headers, **kwargs
        )

    # What a user sees

    async def read(self, path: str, **params: Any) -> Json:
        response = await self.client.get(
            f"{LEDGER}{path}", params=params, headers=self.cast.auditor.headers
        )
        return created(response, 200)

    async def balance(self, account: str, as_of: str | None = None) -> str:
        found = await self.read(
            f"/accounts/{self.id(account)}/balance", as_of=as_of or self.day(12, 31)
        )
        return str(found["balance"])

    async def balances(self, *accounts: str) -> dict[str, str]:
        return {account: await self.balance(account) for account in accounts}

    async def trial_balance(self, *, end: str | None = None, **params: Any) -> Json:
        return await self.read("/reports/trial-balance", end=end or self.day(12, 31), **params)

    async def entry_count(self) -> int:
        """Every entry in the database, draft or not, whatever its date."""
        return int((await self.read("/entries", size=1))["count"])

    async def snapshot(self) -> Snapshot:
        return Snapshot(
            entries=await self.entry_count(),
            trial_balance=await self.trial_balance(end="2999-12-31"),
        )
