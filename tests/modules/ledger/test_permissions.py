"""Who may do what in the ledger: an accountant keeps the chart, drafts and posts; a controller
approves and manages periods; both set rates; an auditor reads everything and changes nothing;
an administrator does everything; a member sees nothing here; no one anonymous gets in."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from tests.modules.ledger.books import (
    LEDGER,
    Books,
    Json,
    Office,
    assert_problem,
    created,
    office_of_its_own,
)

Body = Callable[[Books], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {account}, {draft}, {posted}, {pending}, {period}, {year} name targets
    allowed: frozenset[str]  # roles other than admin that may call it
    body: Body | None = None
    params: tuple[tuple[str, str], ...] = ()
    csv: str | None = None

    async def call(self, books: Books, targets: dict[str, str], headers: dict[str, str]) -> Any:
        if self.csv is not None:
            headers = {**headers, "Content-Type": "text/csv"}
        return await books.client.request(
            self.method,
            LEDGER + self.path.format(**targets),
            json=self.body(books) if self.body else None,
            content=self.csv,
            params=dict(self.params),
            headers=headers,
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


READERS = frozenset({"accountant", "controller", "auditor"})
BOOKKEEPER = frozenset({"accountant"})
CONTROLLER = frozenset({"controller"})
RATE_SETTERS = frozenset({"accountant", "controller"})
ADMINISTRATOR: frozenset[str] = frozenset()


def an_entry(books: Books, **extra: Any) -> Json:
    return books.entry(books.debit("rent", "1.00"), books.credit("bank", "1.00"), **extra)


READS = [
    Route("GET", "/accounts", READERS),
    Route("GET", "/accounts/export", READERS),
    Route("GET", "/accounts/{account}", READERS),
    Route("GET", "/accounts/{account}/balance", READERS, params=(("as_of", "2100-01-01"),)),
    Route("GET", "/accounts/{account}/ledger", READERS),
    Route("GET", "/fiscal-years", READERS),
    Route("GET", "/fiscal-years/{year}", READERS),
    Route("GET", "/exchange-rates", READERS),
    Route("GET", "/entries", READERS),
    Route("GET", "/entries/{posted}", READERS),
    Route("GET", "/reports/trial-balance", READERS, params=(("end", "2100-01-01"),)),
    Route(
        "GET",
        "/reports/profit-or-loss",
        READERS,
        params=(("start", "2100-01-01"), ("end", "2100-12-31")),
    ),
    Route("GET", "/reports/financial-position", READERS, params=(("as_of", "2100-01-01"),)),
]
WRITES = [
    Route(
        "POST",
        "/accounts",
        BOOKKEEPER,
        lambda books: {
            "code": books.prefix + "9999",
            "name": "New",
            "type": "asset",
            "mfrs_class": "current_asset",
        },
    ),
    Route("PATCH", "/accounts/{account}", BOOKKEEPER, lambda _: {"name": "Renamed"}),
    Route("DELETE", "/accounts/{account}", BOOKKEEPER),
    Route("POST", "/accounts/default-chart", BOOKKEEPER),
    Route(
        "POST",
        "/accounts/import",
        BOOKKEEPER,
        csv="code,name,type,mfrs_class,parent_code,currency\nIMP-1,Imported,asset,current_asset,,\n",
    ),
    Route("POST", "/fiscal-years", CONTROLLER, lambda books: {"start_date": "2011-01-01"}),
    Route("PATCH", "/periods/{period}", CONTROLLER, lambda _: {"status": "closed"}),
    Route(
        "POST",
        "/fiscal-years/{year}/close",
        CONTROLLER,
        lambda books: {"retained_earnings_code": books.code("capital")},
    ),
    Route("POST", "/fiscal-years/{year}/reopen", ADMINISTRATOR, lambda _: {"reason": "Audit"}),
    Route(
        "POST",
        "/exchange-rates",
        RATE_SETTERS,
        lambda books: {"currency": "NZD", "effective_date": books.day(1, 1), "rate": "2.7"},
    ),
    Route("POST", "/entries", BOOKKEEPER, an_entry),
    Route("POST", "/entries", BOOKKEEPER, lambda books: an_entry(books, post=True)),
    Route("POST", "/entries/batch", BOOKKEEPER, lambda books: [an_entry(books)]),
    Route("PUT", "/entries/{draft}", BOOKKEEPER, an_entry),
    Route("DELETE", "/entries/{draft}", BOOKKEEPER),
    Route("POST", "/entries/{draft}/post", BOOKKEEPER),
    Route("POST", "/entries/{pending}/approve", CONTROLLER),
    Route("POST", "/entries/{posted}/reverse", BOOKKEEPER),
]


# A database of its own: these tests list every fiscal year in it.
office = office_of_its_own()


@dataclass(frozen=True)
class Targets:
    books: Books
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def targets(office: Office) -> Targets:
    """Books with one of everything a route can name; refused calls leave them as they are."""
    books = await office.new_books()
    spare = await books.add_account(books.prefix + "1900", "asset", "current_asset")
    draft = created(
        await books.client.post(
            f"{LEDGER}/entries", json=an_entry(books), headers=books.cast.accountant.headers
        )
    )
    posted = await books.transfer("rent", "bank", "1.00")
    pending = created(
        await books.create(
            books.debit("rent", "20000.00"), books.credit("bank", "20000.00"), post=True
        )
    )
    ids = {
        "account": spare["id"],
        "draft": draft["id"],
        "posted": posted["id"],
        "pending": pending["id"],
        "period": books.period(1)["id"],
        "year": books.fiscal_year["id"],
    }
    return Targets(books, ids)


async def everything(books: Books, ids: dict[str, str]) -> list[Any]:
    """All that a refused write could have changed, as a reader sees it."""
    return [
        await books.snapshot(),
        (await books.read("/accounts", size=1))["count"],
        await books.read("/accounts", q=books.prefix),
        await books.read(f"/fiscal-years/{ids['year']}"),
        (
            await books.client.get(f"{LEDGER}/fiscal-years", headers=books.cast.auditor.headers)
        ).json(),
        (
            await books.client.get(f"{LEDGER}/exchange-rates", headers=books.cast.auditor.headers)
        ).json(),
        await books.get_entry(ids["draft"]),
        await books.get_entry(ids["pending"]),
        await books.get_entry(ids["posted"]),
    ]


@pytest.mark.parametrize("role", ["auditor", "accountant", "controller", "admin"])
async def test_readers_read_everything(targets: Targets, role: str) -> None:
    headers = targets.books.cast.by_role(role).headers

    for route in READS:
        response = await route.call(targets.books, targets.ids, headers)
        assert response.status_code == 200, f"{role}: {route}: {response.text}"


@pytest.mark.parametrize("role", ["auditor", "accountant", "controller", "member"])
async def test_each_role_is_refused_every_write_it_may_not_make_and_nothing_changes(
    targets: Targets, role: str
) -> None:
    books, ids = targets.books, targets.ids
    headers = books.cast.by_role(role).headers
    before = await everything(books, ids)

    refused = [route for route in WRITES if role not in route.allowed]
    for route in refused:
        response = await route.call(books, ids, headers)
        assert_problem(response, 403, "PERMISSION_DENIED")

    assert refused, role
    assert await everything(books, ids) == before


async def test_a_member_reads_nothing_in_the_ledger(targets: Targets) -> None:
    headers = targets.books.cast.member.headers

    for route in READS:
        assert_problem(
            await route.call(targets.books, targets.ids, headers), 403, "PERMISSION_DENIED"
        )


async def test_no_one_anonymous_gets_in(targets: Targets) -> None:
    before = await everything(targets.books, targets.ids)

    for route in READS + WRITES:
        response = await route.call(targets.books, targets.ids, {})
        assert_problem(response, 401, "NOT_AUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"

    assert await everything(targets.books, targets.ids) == before


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], **kwargs: Any
) -> Json:
    response = await client.request(method, LEDGER + path, headers=headers, **kwargs)
    assert response.status_code in (200, 201, 204), f"{method} {path}: {response.text}"
    return response.json() if response.content else {}


async def test_an_administrator_does_everything(books: Books) -> None:
    boss, client = books.cast.admin.headers, books.client
    account = await call(
        client,
        "POST",
        "/accounts",
        boss,
        json={
            "code": books.prefix + "1900",
            "name": "Float",
            "type": "asset",
            "mfrs_class": "current_asset",
        },
    )
    await call(client, "PATCH", f"/accounts/{account['id']}", boss, json={"name": "Till"})
    await call(
        client,
        "POST",
        "/exchange-rates",
        boss,
        json={"currency": "USD", "effective_date": books.day(1, 1), "rate": "4.2"},
    )
    year = await call(
        client,
        "POST",
        "/fiscal-years",
        boss,
        json={"start_date": date(books.year + 1, 1, 1).isoformat()},
    )
    draft = await call(client, "POST", "/entries", boss, json=an_entry(books))
    await call(client, "PUT", f"/entries/{draft['id']}", boss, json=an_entry(books))
    posted = await call(client, "POST", f"/entries/{draft['id']}/post", boss)
    await call(client, "POST", f"/entries/{posted['id']}/reverse", boss)
    await call(client, "POST", "/entries/batch", boss, json=[an_entry(books)])
    waiting = created(
        await books.create(
            books.debit("rent", "20000.00"), books.credit("bank", "20000.00"), post=True
        )
    )
    approved = await call(client, "POST", f"/entries/{waiting['id']}/approve", boss)
    closed = await call(
        client, "PATCH", f"/periods/{year['periods'][0]['id']}", boss, json={"status": "closed"}
    )
    await call(client, "DELETE", f"/accounts/{account['id']}", boss)

    assert approved["approved_by"] == str(books.cast.admin.id)
    assert closed["status"] == "closed"
    assert await books.balance("rent") == "20001.00"


async def test_an_accountant_keeps_the_chart_and_posts_below_the_threshold(
    books: Books,
) -> None:
    clerk = books.cast.accountant.headers
    account = await call(
        books.client,
        "POST",
        "/accounts",
        clerk,
        json={
            "code": books.prefix + "1900",
            "name": "Float",
            "type": "asset",
            "mfrs_class": "current_asset",
        },
    )
    books.accounts["float"] = account

    entry = await books.transfer("float", "capital", "10000.00")

    assert entry["status"] == "posted"
    assert entry["posted_by"] == str(books.cast.accountant.id)
