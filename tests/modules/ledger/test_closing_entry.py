"""A year-end closing entry is never reversed directly: reopening its year reverses it, through
the service, and that reversal stays put too."""

import uuid
from datetime import date

from aibos.modules.ledger.container import LedgerContainer
from aibos.platform.db import for_writing
from aibos.platform.security import EVERYTHING, Principal
from tests.modules.ledger.books import (
    LEDGER,
    Books,
    Json,
    assert_problem,
    created,
    office_of_its_own,
)

# Books of this module's own: each test closes a past year, 40 years before its own.
office = office_of_its_own()


async def closing_entry(books: Books) -> Json:
    """The closing entry of a past year of the test's own, with one sale, closed."""
    year = books.year - 40
    fiscal_year = await books.open_year(date(year, 1, 1))
    await books.transfer("cash", "sales", "100.00", on=date(year, 6, 1).isoformat())
    response = await books.client.post(
        f"{LEDGER}/fiscal-years/{fiscal_year['id']}/close",
        json={"retained_earnings_code": books.code("capital")},
        headers=books.cast.controller.headers,
    )
    return await books.get_entry(created(response, 200)["closing_entry_id"])


async def test_a_closing_entry_is_never_reversed_directly(books: Books) -> None:
    closing = await closing_entry(books)
    before = await books.snapshot()

    for person in (books.cast.accountant, books.cast.keeper, books.cast.admin):
        response = await books.act(closing["id"], "reverse", person)
        assert_problem(response, 409, "CLOSING_ENTRY_NOT_REVERSIBLE")

    assert closing["kind"] == "closing"
    assert await books.snapshot() == before
    assert await books.get_entry(closing["id"]) == closing


async def test_reopening_reverses_the_closing_entry_and_that_reversal_stays_put(
    books: Books,
) -> None:
    closing = await closing_entry(books)
    app = books.office.app
    service = app.state.module_containers[LedgerContainer].entries()
    admin = books.cast.admin
    actor = Principal(admin.id, uuid.uuid4(), frozenset({"admin"}), frozenset({EVERYTHING}))

    async with for_writing(app.state.container.engine()).begin() as connection:
        reversal_id = await service.reverse_closing_entry(
            connection, actor, uuid.UUID(closing["id"]), description="Year reopened"
        )

    reversal = await books.get_entry(str(reversal_id))
    assert (reversal["status"], reversal["kind"]) == ("posted", "closing")
    assert (reversal["entry_date"], reversal["description"]) == (
        closing["entry_date"],
        "Year reopened",
    )
    assert reversal["number"].startswith(f"JE-{books.year - 40}-")
    assert (await books.get_entry(closing["id"]))["status"] == "reversed"
    response = await books.act(str(reversal_id), "reverse", books.cast.accountant)
    assert_problem(response, 409, "CLOSING_ENTRY_NOT_REVERSIBLE")
