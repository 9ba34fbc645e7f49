from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aibos.modules.ledger.exceptions import (
    FiscalYearInvalid,
    FiscalYearNotFound,
    FiscalYearOverlaps,
    NoFiscalYear,
    PeriodClosed,
    PeriodNotFound,
    PeriodStateChange,
)
from aibos.modules.ledger.models import FiscalYear, Period
from aibos.modules.ledger.schemas import FiscalYearPublic, PeriodPublic, PeriodStatus
from aibos.modules.ledger.tables import fiscal_years, periods
from aibos.platform.db import Connection, Record, for_reading, for_writing, utcnow
from aibos.platform.errors import DomainError
from aibos.platform.idempotency import Claim, remember, take
from aibos.platform.security import Principal

MONTHS = 12
# Which moves a period may make, and whether the move needs a reason.
_MOVES = {
    (PeriodStatus.OPEN, PeriodStatus.CLOSED): False,
    (PeriodStatus.CLOSED, PeriodStatus.OPEN): True,
    (PeriodStatus.CLOSED, PeriodStatus.LOCKED): False,
    (PeriodStatus.OPEN, PeriodStatus.LOCKED): False,
}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)


class PeriodService:
    def __init__(self, *, engine: AsyncEngine) -> None:
        self._reader = for_reading(engine)
        self._writer = for_writing(engine)

    async def years(self) -> list[FiscalYearPublic]:
        """Every year with its periods, in two queries."""
        async with self._reader.connect() as connection:
            years = (
                await connection.execute(select(fiscal_years).order_by(fiscal_years.c.start_date))
            ).all()
            rows = await connection.execute(
                select(periods).order_by(periods.c.fiscal_year_id, periods.c.number)
            )
        periods_of: dict[uuid.UUID, list[PeriodPublic]] = {year.id: [] for year in years}
        for row in rows:
            periods_of[row.fiscal_year_id].append(PeriodPublic(**row._mapping))
        return [FiscalYearPublic(**year._mapping, periods=periods_of[year.id]) for year in years]

    async def year(self, year_id: uuid.UUID) -> FiscalYearPublic:
        async with self._reader.connect() as connection:
            return await fiscal_year(connection, year_id)

    async def open_year(
        self, *, start_date: date, name: str | None, claim: Claim | None = None
    ) -> FiscalYearPublic:
        """A fiscal year of twelve monthly periods, all open; it starts on the 1st of a month."""
        async with self._writer.begin() as connection:
            await take(claim, connection)
            year = await open_year(connection, start_date=start_date, name=name)
            await remember(claim, connection, year)
            return year

    async def change_period(
        self, actor: Principal, period_id: uuid.UUID, *, status: PeriodStatus, reason: str
    ) -> PeriodPublic:
        async with self._writer.begin() as connection:
            row = (
                await connection.execute(
                    select(periods).where(periods.c.id == period_id).with_for_update()
                )
            ).first()
            if row is None:
                raise PeriodNotFound()
            move = (PeriodStatus(row.status), status)
            if move not in _MOVES:
                raise PeriodStateChange(f"A period cannot go from {move[0]} to {move[1]}.")
            if _MOVES[move] and not reason:
                raise PeriodStateChange("Reopening a period needs a reason.")
            await connection.execute(
                update(periods)
                .where(periods.c.id == period_id)
                .values(
                    status=status,
                    status_reason=reason,
                    status_changed_by=actor.user_id,
                    status_changed_at=utcnow(),
                )
            )
            changed = (
                await connection.execute(select(periods).where(periods.c.id == period_id))
            ).one()
            return PeriodPublic(**changed._mapping)


async def fiscal_year(connection: AsyncConnection, year_id: uuid.UUID) -> FiscalYearPublic:
    year = (
        await connection.execute(select(fiscal_years).where(fiscal_years.c.id == year_id))
    ).first()
    if year is None:
        raise FiscalYearNotFound()
    rows = await connection.execute(
        select(periods).where(periods.c.fiscal_year_id == year_id).order_by(periods.c.number)
    )
    return FiscalYearPublic(**year._mapping, periods=[PeriodPublic(**row._mapping) for row in rows])


def today() -> date:
    """Today in UTC: the day the service reads as now."""
    return utcnow().date()


async def year_covering(connection: Connection, day: date) -> Record | None:
    """The fiscal year whose dates hold `day`, if any."""
    row: Record | None = (
        await connection.execute(
            select(fiscal_years).where(
                fiscal_years.c.start_date <= day, fiscal_years.c.end_date >= day
            )
        )
    ).first()
    return row


async def posting_refusal(connection: Connection, day: date) -> DomainError:
    """Why `day` takes no posting: no fiscal year covers it, or its period is not open."""
    if await year_covering(connection, day) is None:
        return NoFiscalYear(f"No fiscal year covers {day}: open one that does first.")
    return PeriodClosed(f"{day} is not in an open period.")


async def open_period_of(connection: Connection, day: date) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(fiscal year, period) holding this date if the period is open; locks it against closing."""
    row = (await connection.execute(_OPEN_PERIOD, {"day": day})).first()
    return None if row is None else (row.fiscal_year_id, row.id)


# Built once: postings run these every time. Both lock the period against closing.
_IS_OPEN_ON_DAY = (
    periods.c.start_date <= bindparam("day"),
    periods.c.end_date >= bindparam("day"),
    periods.c.status == PeriodStatus.OPEN,
)
_OPEN_PERIOD = (
    select(periods.c.fiscal_year_id, periods.c.id)
    .where(*_IS_OPEN_ON_DAY)
    .with_for_update(read=True, key_share=True)
)
OPEN_YEAR_ON_DAY = (
    select(periods.c.fiscal_year_id)
    .where(*_IS_OPEN_ON_DAY)
    .with_for_update(read=True, key_share=True)
    .scalar_subquery()
)
"""The fiscal year whose period holding :day is open, as a subquery of a larger statement."""


async def first_open_day_from(connection: AsyncConnection, day: date) -> date | None:
    """`day` if its period is open, else the first day of the next open period."""
    if await open_period_of(connection, day) is not None:
        return day
    return await connection.scalar(
        select(periods.c.start_date)
        .where(periods.c.start_date > day, periods.c.status == PeriodStatus.OPEN)
        .order_by(periods.c.start_date)
        .limit(1)
    )


async def open_year(
    connection: AsyncConnection, *, start_date: date, name: str | None
) -> FiscalYearPublic:
    if start_date.day != 1:
        raise FiscalYearInvalid(f"{start_date} is not the first day of a month.")
    end_date = add_months(start_date, MONTHS) - timedelta(days=1)
    year = FiscalYear(name=name or str(end_date.year), start_date=start_date, end_date=end_date)
    overlap = await connection.scalar(
        select(fiscal_years.c.id).where(
            and_(fiscal_years.c.start_date <= end_date, fiscal_years.c.end_date >= start_date)
            | (fiscal_years.c.name == year.name)
        )
    )
    if overlap is not None:
        raise FiscalYearOverlaps("Another fiscal year covers these dates or has this name.")
    await connection.execute(insert(fiscal_years).values(**year.model_dump()))
    await connection.execute(
        insert(periods),
        [
            Period(
                fiscal_year_id=year.id,
                number=number + 1,
                start_date=add_months(start_date, number),
                end_date=add_months(start_date, number + 1) - timedelta(days=1),
            ).model_dump()
            for number in range(MONTHS)
        ],
    )
    return await fiscal_year(connection, year.id)
