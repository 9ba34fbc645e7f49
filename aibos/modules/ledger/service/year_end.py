"""Year-end close and reopen: income and expenses move to retained earnings and back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aibos.modules.ledger.exceptions import (
    AccountNotFound,
    FiscalYearClosed,
    FiscalYearHasUnposted,
    FiscalYearLocked,
    FiscalYearNotClosed,
    FiscalYearNotEnded,
    FiscalYearNotFound,
    InvalidAccount,
    LaterYearClosed,
)
from aibos.modules.ledger.money import MAX_LINE_MINOR_UNITS, exponent, to_decimal_string
from aibos.modules.ledger.schemas import (
    LINE_DIGITS,
    AccountType,
    EntryIn,
    EntryStatus,
    FiscalYearPublic,
    LineIn,
    PeriodStatus,
    Side,
)
from aibos.modules.ledger.service.entries import EntryService
from aibos.modules.ledger.service.periods import fiscal_year, open_year, today
from aibos.modules.ledger.tables import accounts, daily_balances, entries, fiscal_years, periods
from aibos.platform.db import for_writing, retrying_lock_conflicts, utcnow
from aibos.platform.idempotency import Claim, remember, take
from aibos.platform.security import Principal
from aibos.platform.settings import Settings

PROFIT_AND_LOSS = (AccountType.INCOME, AccountType.EXPENSE)


class YearEnd:
    def __init__(self, *, engine: AsyncEngine, entries: EntryService, settings: Settings) -> None:
        self._writer = for_writing(engine)
        self._entries = entries
        self._currency = settings.functional_currency

    async def close(
        self,
        actor: Principal,
        year_id: uuid.UUID,
        *,
        retained_earnings_code: str,
        claim: Claim | None = None,
    ) -> FiscalYearPublic:
        """Post the closing entry on the last day, close the open periods, open the next year."""

        async def work() -> FiscalYearPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                year = await _locked_year(connection, year_id)
                if year.status == "closed":
                    raise FiscalYearClosed()
                if today() < year.end_date:
                    raise FiscalYearNotEnded(
                        f"{year.name} ends on {year.end_date}: it is closed from that day on."
                    )
                await _check_all_posted(connection, year)
                await _check_retained_earnings(connection, retained_earnings_code)
                closing_id = await self._post_closing_entry(
                    connection, actor, year, retained_earnings_code
                )
                await _close_open_periods(connection, actor, year_id)
                await connection.execute(
                    update(fiscal_years)
                    .where(fiscal_years.c.id == year_id)
                    .values(status="closed", closing_entry_id=closing_id)
                )
                next_start = year.end_date + timedelta(days=1)
                following = await connection.scalar(
                    select(fiscal_years.c.id).where(fiscal_years.c.start_date == next_start)
                )
                if following is None:
                    await open_year(connection, start_date=next_start, name=None)
                closed = await fiscal_year(connection, year_id)
                await remember(claim, connection, closed)
                return closed

        return await retrying_lock_conflicts(work)

    async def reopen(
        self, actor: Principal, year_id: uuid.UUID, *, reason: str, claim: Claim | None = None
    ) -> FiscalYearPublic:
        """Reverse the closing entry and open the year again; its periods stay closed."""

        async def work() -> FiscalYearPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                year = await _locked_year(connection, year_id)
                if year.status != "closed":
                    raise FiscalYearNotClosed(f"{year.name} is not closed.")
                await _check_no_later_year_closed(connection, year)
                last_period = await connection.scalar(
                    select(periods.c.status)
                    .where(periods.c.fiscal_year_id == year_id)
                    .order_by(periods.c.number.desc())
                    .limit(1)
                )
                if year.closing_entry_id is not None:
                    if last_period == PeriodStatus.LOCKED:
                        raise FiscalYearLocked(
                            f"The last period of {year.name} is locked: its closing entry stays."
                        )
                    await self._entries.reverse_closing_entry(
                        connection,
                        actor,
                        year.closing_entry_id,
                        description=f"Reopening of {year.name}: {reason}",
                    )
                await connection.execute(
                    update(fiscal_years)
                    .where(fiscal_years.c.id == year_id)
                    .values(status="open", closing_entry_id=None)
                )
                reopened = await fiscal_year(connection, year_id)
                await remember(claim, connection, reopened)
                return reopened

        return await retrying_lock_conflicts(work)

    async def _post_closing_entry(
        self, connection: AsyncConnection, actor: Principal, year: Any, retained_code: str
    ) -> uuid.UUID | None:
        """Zero every income and expense account of the year into retained earnings."""
        nets = await connection.execute(
            select(accounts.c.code, func.sum(daily_balances.c.debit - daily_balances.c.credit))
            .join(accounts, accounts.c.id == daily_balances.c.account_id)
            .where(
                accounts.c.type.in_(PROFIT_AND_LOSS),
                daily_balances.c.day >= year.start_date,
                daily_balances.c.day <= year.end_date,
            )
            .group_by(accounts.c.code)
            .order_by(accounts.c.code)
        )
        net_debits = [(code, int(net)) for code, net in nets if net]
        lines = [line for code, net in net_debits for line in self._zeroing(code, net)]
        loss = sum(net for _, net in net_debits)  # what remains is the year's loss
        if loss:
            lines.extend(self._zeroing(retained_code, -loss))
        if not lines:
            return None
        return await self._entries.post_closing_entry(
            connection,
            actor,
            EntryIn(
                entry_date=year.end_date,
                description=f"Year-end close {year.name}",
                source="year-end",
                lines=lines,
            ),
            year_id=year.id,
        )

    def _zeroing(self, code: str, net_debit: int) -> list[LineIn]:
        """The lines that bring an account with this net debit (negative: credit) to zero: a
        year's net may pass what one line may carry, so it is split into lines that fit."""
        side = Side.CREDIT if net_debit > 0 else Side.DEBIT
        most = min(MAX_LINE_MINOR_UNITS, 10 ** (LINE_DIGITS + exponent(self._currency))) - 1
        whole, rest = divmod(abs(net_debit), most)
        parts = [most] * whole + ([rest] if rest else [])
        return [
            LineIn(account_code=code, side=side, amount=to_decimal_string(part, self._currency))
            for part in parts
        ]


async def _locked_year(connection: AsyncConnection, year_id: uuid.UUID) -> Any:
    year = (
        await connection.execute(
            select(fiscal_years).where(fiscal_years.c.id == year_id).with_for_update()
        )
    ).first()
    if year is None:
        raise FiscalYearNotFound()
    return year


async def _check_all_posted(connection: AsyncConnection, year: Any) -> None:
    """Refuse while drafts or entries awaiting approval are dated in the year, saying how many."""
    waiting = await connection.execute(
        select(entries.c.status, func.count())
        .where(
            entries.c.status.in_([EntryStatus.DRAFT, EntryStatus.PENDING_APPROVAL]),
            entries.c.entry_date >= year.start_date,
            entries.c.entry_date <= year.end_date,
        )
        .group_by(entries.c.status)
    )
    counts = {status: int(count) for status, count in waiting}
    if counts:
        drafts = _how_many(counts.get(EntryStatus.DRAFT, 0), "draft", "drafts")
        pending = _how_many(
            counts.get(EntryStatus.PENDING_APPROVAL, 0),
            "entry awaiting approval",
            "entries awaiting approval",
        )
        raise FiscalYearHasUnposted(
            f"{year.name} has {drafts} and {pending} dated {year.start_date} "
            f"to {year.end_date}: post, approve, reject or delete them first."
        )


def _how_many(count: int, one: str, many: str) -> str:
    return f"1 {one}" if count == 1 else f"{count} {many}"


async def _check_retained_earnings(connection: AsyncConnection, code: str) -> None:
    retained = (
        await connection.execute(select(accounts.c.type).where(accounts.c.code == code))
    ).first()
    if retained is None:
        raise AccountNotFound(f"No account {code}.")
    if retained.type != AccountType.EQUITY:
        raise InvalidAccount("Retained earnings is an equity account.")


async def _check_no_later_year_closed(connection: AsyncConnection, year: Any) -> None:
    later: str | None = await connection.scalar(
        select(fiscal_years.c.name)
        .where(fiscal_years.c.start_date > year.start_date, fiscal_years.c.status == "closed")
        .order_by(fiscal_years.c.start_date.desc())
        .limit(1)
    )
    if later is not None:
        raise LaterYearClosed(f"{later} is closed: reopen it before {year.name}.")


async def _close_open_periods(
    connection: AsyncConnection, actor: Principal, year_id: uuid.UUID
) -> None:
    """Close the year's open periods; a locked one stays locked (locking is its own act)."""
    await connection.execute(
        update(periods)
        .where(periods.c.fiscal_year_id == year_id, periods.c.status == PeriodStatus.OPEN)
        .values(
            status=PeriodStatus.CLOSED,
            status_reason="Year-end close",
            status_changed_by=actor.user_id,
            status_changed_at=utcnow(),
        )
    )
