"""Closing entries posted before entries had a kind are marked `closing` by the migration that
adds it, on PostgreSQL past the guard that keeps posted entries unchanged, and none of their
lines is lost going down again."""

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from aibos.platform.db import create_engine
from aibos.platform.migrations import downgrade, upgrade
from aibos.platform.settings import Settings
from tests.databases import throwaway_database

BEFORE_KINDS = "0005"


def table(name: str, *columns: str, ids: tuple[str, ...] = ()) -> sa.TableClause:
    """A table as it was before the migration, with its uuid columns typed."""
    return sa.table(name, *(sa.column(c, sa.Uuid()) for c in ids), *(sa.column(c) for c in columns))


YEARS = table(
    "ledger_fiscal_year",
    "name",
    "start_date",
    "end_date",
    "status",
    "last_entry_number",
    ids=("id", "closing_entry_id"),
)
ACCOUNTS = table(
    "ledger_account",
    "code",
    "name",
    "type",
    "mfrs_class",
    "is_active",
    "created_at",
    "updated_at",
    ids=("id",),
)
ENTRIES = table(
    "ledger_entry",
    "number",
    "sequence",
    "entry_date",
    "description",
    "reference",
    "source",
    "status",
    "total",
    "created_at",
    ids=("id", "fiscal_year_id", "created_by"),
)
LINES = table(
    "ledger_line",
    "line_number",
    "entry_date",
    "posted",
    "debit",
    "credit",
    "currency",
    "amount",
    "rate",
    "memo",
    ids=("id", "entry_id", "account_id"),
)


async def test_closing_entries_already_posted_are_marked_closing() -> None:
    async with throwaway_database() as url:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        await upgrade(engine, BEFORE_KINDS)
        closing_id, other_id = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as connection:
            await posted_books(connection, closing_id, other_id)

        await upgrade(engine)

        async with engine.connect() as connection:
            rows = await connection.execute(sa.text("SELECT number, kind FROM ledger_entry"))
            kinds = {row.number: row.kind for row in rows}
        assert kinds == {"JE-2020-000001": "journal", "JE-2020-000002": "closing"}
        await downgrade(engine, BEFORE_KINDS)
        async with engine.connect() as connection:
            lines = await connection.scalar(sa.text("SELECT count(*) FROM ledger_line"))
        assert lines == 4
        await engine.dispose()


async def posted_books(
    connection: AsyncConnection, closing_id: uuid.UUID, other_id: uuid.UUID
) -> None:
    """A closed year with a sale and its closing entry, written as the code before kinds did."""
    now = datetime.now(UTC)
    year_id, sales, retained, cash = (uuid.uuid4() for _ in range(4))
    await connection.execute(
        sa.insert(YEARS).values(
            id=year_id,
            name="2020",
            start_date=date(2020, 1, 1),
            end_date=date(2020, 12, 31),
            status="closed",
            closing_entry_id=closing_id,
            last_entry_number=2,
        )
    )
    for account_id, code in ((sales, "S"), (retained, "R"), (cash, "C")):
        await connection.execute(
            sa.insert(ACCOUNTS).values(
                id=account_id,
                code=code,
                name=code,
                type="equity",
                mfrs_class="equity",
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
    for sequence, entry_id, debit, credit in (
        (1, other_id, cash, sales),
        (2, closing_id, sales, retained),
    ):
        await connection.execute(
            sa.insert(ENTRIES).values(
                id=entry_id,
                fiscal_year_id=year_id,
                sequence=sequence,
                number=f"JE-2020-{sequence:06d}",
                entry_date=date(2020, 12, 31),
                description="-",
                reference="",
                source="",
                status="draft",
                total=100,
                created_by=uuid.uuid4(),
                created_at=now,
            )
        )
        for number, (account_id, side) in enumerate(((debit, "debit"), (credit, "credit")), 1):
            await connection.execute(
                sa.insert(LINES).values(
                    id=uuid.uuid4(),
                    entry_id=entry_id,
                    line_number=number,
                    account_id=account_id,
                    entry_date=date(2020, 12, 31),
                    posted=True,
                    debit=100 if side == "debit" else 0,
                    credit=100 if side == "credit" else 0,
                    currency="MYR",
                    amount=100,
                    rate=1,
                    memo="",
                )
            )
        await connection.execute(
            sa.update(ENTRIES).where(ENTRIES.c.id == entry_id).values(status="posted")
        )
