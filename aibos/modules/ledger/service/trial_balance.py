"""The trial balance: opening, movement and closing per account, from the day balances, each
balance in the debit or the credit column."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from aibos.modules.ledger.money import to_decimal_string
from aibos.modules.ledger.schemas import (
    AccountType,
    ClosingEntries,
    TrialBalance,
    TrialBalanceRow,
    normal_balance,
)
from aibos.modules.ledger.service.day_sums import check_range, sums
from aibos.modules.ledger.tables import accounts

COLUMNS = (
    "opening_debit",
    "opening_credit",
    "debits",
    "credits",
    "closing_debit",
    "closing_credit",
)


async def trial_balance(
    connection: AsyncConnection,
    *,
    start: date | None,
    end: date,
    closing: ClosingEntries,
    currency: str,
) -> TrialBalance:
    """Every column's debits equal its credits, with or without the closing entries."""
    check_range(start, end)
    before = start - timedelta(days=1) if start else None
    opening = await sums(connection, after=None, until=before) if before else {}
    movement = await sums(
        connection, after=before, until=end, closing=closing is ClosingEntries.INCLUDE
    )
    chart = (await connection.execute(select(accounts).order_by(accounts.c.code))).all()

    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    rows, totals = [], dict.fromkeys(COLUMNS, 0)
    for account in chart:
        open_debit, open_credit = opening.get(account.id, (0, 0))
        debits, credits = movement.get(account.id, (0, 0))
        if not (open_debit or open_credit or debits or credits):
            continue
        opened = open_debit - open_credit
        closed = opened + debits - credits
        figures = dict(
            zip(COLUMNS, (*_sided(opened), debits, credits, *_sided(closed)), strict=True)
        )
        for column, amount in figures.items():
            totals[column] += amount
        rows.append(_row(account, {column: money(amount) for column, amount in figures.items()}))
    return TrialBalance(
        start_date=start,
        end_date=end,
        closing_entries=closing,
        currency=currency,
        rows=rows,
        **{f"total_{column}": money(amount) for column, amount in totals.items()},
    )


def _sided(net_debit: int) -> tuple[int, int]:
    """(debit, credit) columns of a balance: a net debit on the left, a net credit on the right."""
    return (net_debit, 0) if net_debit >= 0 else (0, -net_debit)


def _row(account: Any, figures: dict[str, str]) -> TrialBalanceRow:
    kind = AccountType(account.type)
    return TrialBalanceRow(
        account_code=account.code,
        account_name=account.name,
        type=kind,
        normal_balance=normal_balance(kind, is_contra=account.is_contra),
        **figures,
    )
