"""Posted debits and credits per account over a range of days, read from the day balances."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from aibos.modules.ledger.tables import accounts, daily_balances, fiscal_years, lines
from aibos.platform.errors import InvalidInput

Sums = dict[uuid.UUID, tuple[int, int]]


async def sums(
    connection: AsyncConnection, *, after: date | None, until: date, closing: bool = True
) -> Sums:
    """Posted (debit, credit) per account for days in (after, until]; without the year-end
    closing entries dated in that range when `closing` is false."""
    query = (
        select(
            daily_balances.c.account_id,
            func.sum(daily_balances.c.debit),
            func.sum(daily_balances.c.credit),
        )
        .where(daily_balances.c.day <= until)
        .group_by(daily_balances.c.account_id)
    )
    if after is not None:
        query = query.where(daily_balances.c.day > after)
    found = {row[0]: (int(row[1]), int(row[2])) for row in await connection.execute(query)}
    if not closing:
        for account_id, (debit, credit) in (await _closing_sums(connection, after, until)).items():
            total_debit, total_credit = found[account_id]
            found[account_id] = (total_debit - debit, total_credit - credit)
    return found


async def _closing_sums(connection: AsyncConnection, after: date | None, until: date) -> Sums:
    """The lines of the closing entries of closed years, in (after, until]: a handful of lines
    a year. A reopened year's closing entry and its reversal share a day and cancel out there,
    so only the closing entry of a year still closed is taken out."""
    query = (
        select(lines.c.account_id, func.sum(lines.c.debit), func.sum(lines.c.credit))
        .join(fiscal_years, fiscal_years.c.closing_entry_id == lines.c.entry_id)
        .where(lines.c.entry_date <= until)
        .group_by(lines.c.account_id)
    )
    if after is not None:
        query = query.where(lines.c.entry_date > after)
    return {row[0]: (int(row[1]), int(row[2])) for row in await connection.execute(query)}


async def sums_between(
    connection: AsyncConnection, start: date, end: date, *, closing: bool = True
) -> Sums:
    """Posted (debit, credit) per account for days from `start` to `end`, both included."""
    return await sums(connection, after=start - timedelta(days=1), until=end, closing=closing)


def by_class(found: Sums, classes: dict[uuid.UUID, str]) -> defaultdict[str, int]:
    """Debit-positive totals per MFRS class."""
    totals: defaultdict[str, int] = defaultdict(int)
    for account_id, (debit, credit) in found.items():
        totals[classes[account_id]] += debit - credit
    return totals


async def mfrs_classes(connection: AsyncConnection) -> dict[uuid.UUID, str]:
    rows = await connection.execute(select(accounts.c.id, accounts.c.mfrs_class))
    return {row.id: row.mfrs_class for row in rows}


def check_range(start: date | None, end: date) -> None:
    """Refuse a range that ends before it starts."""
    if start is not None and end < start:
        raise InvalidInput("The end date comes before the start date.")
