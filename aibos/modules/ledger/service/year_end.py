"""Year-end close: income and expenses move to retained earnings; the next year opens."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.ledger.exceptions import (
    AccountNotFound,
    FiscalYearClosed,
    FiscalYearNotFound,
    InvalidAccount,
)
from aibos.modules.ledger.money import to_decimal_string
from aibos.modules.ledger.schemas import (
    AccountType,
    EntryIn,
    FiscalYearPublic,
    LineIn,
    PeriodStatus,
    Side,
)
from aibos.modules.ledger.service.entries import EntryService
from aibos.modules.ledger.service.periods import fiscal_year, open_year
from aibos.modules.ledger.tables import accounts, daily_balances, fiscal_years, periods
from aibos.platform.db import for_writing, retrying_lock_conflicts
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
        """Post the closing entry on the last day, lock every period, open the next year."""

        async def work() -> FiscalYearPublic:
            async with self._writer.begin() as connection:
                await take(claim, connection)
                year = (
                    await connection.execute(
                        select(fiscal_years).where(fiscal_years.c.id == year_id).with_for_update()
                    )
                ).first()
                if year is None:
                    raise FiscalYearNotFound()
                if year.status == "closed":
                    raise FiscalYearClosed()
                retained = (
                    await connection.execute(
                        select(accounts.c.type).where(accounts.c.code == retained_earnings_code)
                    )
                ).first()
                if retained is None:
                    raise AccountNotFound(f"No account {retained_earnings_code}.")
                if retained.type != AccountType.EQUITY:
                    raise InvalidAccount("Retained earnings is an equity account.")
                nets = await connection.execute(
                    select(
                        accounts.c.code, func.sum(daily_balances.c.debit - daily_balances.c.credit)
                    )
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
                lines = [self._zeroing(code, net) for code, net in net_debits]
                loss = sum(net for _, net in net_debits)  # what remains is the year's loss
                if loss:
                    lines.append(self._zeroing(retained_earnings_code, -loss))
                closing_id = None
                if lines:
                    closing_id = await self._entries.post_closing_entry(
                        connection,
                        actor,
                        EntryIn(
                            entry_date=year.end_date,
                            description=f"Year-end close {year.name}",
                            source="year-end",
                            lines=lines,
                        ),
                        year_id=year_id,
                    )
                await connection.execute(
                    update(periods)
                    .where(periods.c.fiscal_year_id == year_id)
                    .values(status=PeriodStatus.LOCKED)
                )
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

    def _zeroing(self, code: str, net_debit: int) -> LineIn:
        """The line that brings an account with this net debit (negative: credit) to zero."""
        side = Side.CREDIT if net_debit > 0 else Side.DEBIT
        return LineIn(
            account_code=code, side=side, amount=to_decimal_string(abs(net_debit), self._currency)
        )
