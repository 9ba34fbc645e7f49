"""The trial balance: opening, movement and closing per account, from the day balances."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from aibos.modules.ledger.money import to_decimal_string
from aibos.modules.ledger.schemas import ClosingEntries, TrialBalance, TrialBalanceRow
from aibos.modules.ledger.service.day_sums import sums
from aibos.modules.ledger.tables import accounts
from aibos.platform.errors import InvalidInput


async def trial_balance(
    connection: AsyncConnection,
    *,
    start: date | None,
    end: date,
    closing: ClosingEntries,
    currency: str,
) -> TrialBalance:
    """Debits always equal credits, with or without the closing entries."""
    if start is not None and end < start:
        raise InvalidInput("The end date comes before the start date.")
    before = start - timedelta(days=1) if start else None
    opening = await sums(connection, after=None, until=before) if before else {}
    movement = await sums(
        connection, after=before, until=end, closing=closing is ClosingEntries.INCLUDE
    )
    chart = (await connection.execute(select(accounts).order_by(accounts.c.code))).all()

    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    rows, total_debits, total_credits = [], 0, 0
    for account in chart:
        open_debit, open_credit = opening.get(account.id, (0, 0))
        debits, credits = movement.get(account.id, (0, 0))
        if not (open_debit or open_credit or debits or credits):
            continue
        total_debits += debits
        total_credits += credits
        rows.append(
            TrialBalanceRow(
                account_code=account.code,
                account_name=account.name,
                type=account.type,
                opening=money(open_debit - open_credit),
                debits=money(debits),
                credits=money(credits),
                closing=money(open_debit - open_credit + debits - credits),
            )
        )
    return TrialBalance(
        start_date=start,
        end_date=end,
        closing_entries=closing,
        currency=currency,
        rows=rows,
        total_debits=money(total_debits),
        total_credits=money(total_credits),
    )
