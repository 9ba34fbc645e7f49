"""Reports read the daily balances, never every line; lines only for one account's page."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aibos.modules.ledger.exceptions import AccountNotFound, NoFiscalYear
from aibos.modules.ledger.money import to_decimal_string
from aibos.modules.ledger.schemas import (
    AccountBalance,
    AccountLedger,
    AccountType,
    ClosingEntries,
    LedgerLine,
    MfrsClass,
    Side,
    Statement,
    StatementLine,
    TrialBalance,
    normal_balance,
)
from aibos.modules.ledger.service.day_sums import (
    by_class,
    check_range,
    mfrs_classes,
    sums,
    sums_between,
)
from aibos.modules.ledger.service.periods import today, year_covering
from aibos.modules.ledger.service.trial_balance import trial_balance
from aibos.modules.ledger.tables import accounts, daily_balances, entries, lines
from aibos.platform.db import for_reading
from aibos.platform.errors import InvalidInput
from aibos.platform.settings import Settings

PROFIT_OR_LOSS = [
    (MfrsClass.REVENUE, "Revenue", 1),
    (MfrsClass.COST_OF_SALES, "Cost of sales", -1),
    (MfrsClass.OTHER_INCOME, "Other income", 1),
    (MfrsClass.OPERATING_EXPENSE, "Operating expenses", -1),
    (MfrsClass.FINANCE_COST, "Finance costs", -1),
    (MfrsClass.TAX_EXPENSE, "Tax expense", -1),
]
FINANCIAL_POSITION = [
    (MfrsClass.NON_CURRENT_ASSET, "Non-current assets"),
    (MfrsClass.CURRENT_ASSET, "Current assets"),
    (MfrsClass.EQUITY, "Equity"),
    (MfrsClass.NON_CURRENT_LIABILITY, "Non-current liabilities"),
    (MfrsClass.CURRENT_LIABILITY, "Current liabilities"),
]


class ReportService:
    def __init__(self, *, engine: AsyncEngine, settings: Settings) -> None:
        self._reader = for_reading(engine)
        self._currency = settings.functional_currency

    def _money(self, minor: int) -> str:
        return to_decimal_string(minor, self._currency)

    async def balance(self, account_id: uuid.UUID, as_of: date) -> AccountBalance:
        async with self._reader.connect() as connection:
            account = await _account(connection, account_id)
            debit, credit = await _account_days(
                connection, account_id, daily_balances.c.day <= as_of
            )
        return AccountBalance(
            account_code=account.code,
            as_of=as_of,
            currency=self._currency,
            debit=self._money(debit),
            credit=self._money(credit),
            balance=self._money(_normal(_side(account), debit, credit)),
        )

    async def ledger(
        self,
        account_id: uuid.UUID,
        *,
        start: date | None,
        end: date | None,
        cursor: str | None,
        size: int,
    ) -> AccountLedger:
        """Every posted line of an account in order, a page at a time, with a running balance."""
        position = _decode(cursor) if cursor else None
        order = (lines.c.entry_date, entries.c.sequence, lines.c.line_number)
        async with self._reader.connect() as connection:
            account = await _account(connection, account_id)
            opening = await self._opening(connection, account, start, position)
            query = (
                select(lines, entries.c.number, entries.c.description, entries.c.sequence)
                .join(entries, entries.c.id == lines.c.entry_id)
                .where(lines.c.account_id == account_id, lines.c.posted.is_(True))
                .order_by(*order)
                .limit(size + 1)
            )
            if start is not None:
                query = query.where(lines.c.entry_date >= start)
            if end is not None:
                query = query.where(lines.c.entry_date <= end)
            if position is not None:
                # the plain bound on the date lets the index narrow the scan; the tuple finishes
                query = query.where(
                    lines.c.entry_date >= position[0], tuple_(*order) > tuple_(*position)
                )
            rows = (await connection.execute(query)).all()
        kind = _side(account)
        running, page = opening, []
        for row in rows[:size]:
            running += _normal(kind, row.debit, row.credit)
            page.append(
                LedgerLine(
                    entry_id=row.entry_id,
                    entry_number=row.number,
                    entry_date=row.entry_date,
                    description=row.description,
                    line_number=row.line_number,
                    debit=self._money(row.debit),
                    credit=self._money(row.credit),
                    running_balance=self._money(running),
                    memo=row.memo,
                )
            )
        last = rows[size - 1] if len(rows) > size else None
        return AccountLedger(
            account_code=account.code,
            currency=self._currency,
            opening_balance=self._money(opening),
            data=page,
            next_cursor=_encode(last.entry_date, last.sequence, last.line_number) if last else None,
        )

    async def _opening(
        self,
        connection: AsyncConnection,
        account: Any,
        start: date | None,
        position: tuple[date, int, int] | None,
    ) -> int:
        account_id, kind = account.id, _side(account)
        before = position[0] if position else start
        if before is None:
            return 0
        day_debit, day_credit = await _account_days(
            connection, account_id, daily_balances.c.day < before
        )
        opening = _normal(kind, day_debit, day_credit)
        if position is not None:  # lines of the cursor's own day up to the cursor
            debit, credit = (
                await connection.execute(
                    select(
                        func.coalesce(func.sum(lines.c.debit), 0),
                        func.coalesce(func.sum(lines.c.credit), 0),
                    )
                    .join(entries, entries.c.id == lines.c.entry_id)
                    .where(
                        lines.c.account_id == account_id,
                        lines.c.posted.is_(True),
                        lines.c.entry_date == position[0],
                        tuple_(entries.c.sequence, lines.c.line_number) <= tuple_(*position[1:]),
                    )
                )
            ).one()
            opening += _normal(kind, debit, credit)
        return opening

    async def trial_balance(
        self, *, start: date | None, end: date | None, closing: ClosingEntries
    ) -> TrialBalance:
        """Opening, debits, credits and closing per account up to `end` (default: today)."""
        async with self._reader.connect() as connection:
            return await trial_balance(
                connection,
                start=start,
                end=end or today(),
                closing=closing,
                currency=self._currency,
            )

    async def profit_or_loss(self, *, start: date | None, end: date | None) -> Statement:
        """By default the fiscal year to date: from the start of the year holding `end` (by
        default today) to `end`."""
        async with self._reader.connect() as connection:
            end = end or today()
            start = start or await _start_of_year_holding(connection, end)
            check_range(start, end)
            previous_start, previous_end = _previous_range(start, end)
            classes = await mfrs_classes(connection)
            current = await sums_between(connection, start, end, closing=False)
            previous = await sums_between(connection, previous_start, previous_end, closing=False)
        now, before = by_class(current, classes), by_class(previous, classes)
        lines_out, profit_now, profit_before = [], 0, 0
        for mfrs_class, label, sign in PROFIT_OR_LOSS:
            # Income is credit-normal: its amount is credits less debits; expenses the reverse.
            amount_now, amount_before = -now[mfrs_class] * sign, -before[mfrs_class] * sign
            profit_now += amount_now * sign
            profit_before += amount_before * sign
            lines_out.append(self._line(mfrs_class, label, amount_now, amount_before))
        lines_out.append(self._line("profit", "Profit for the period", profit_now, profit_before))
        return Statement(
            title="Statement of profit or loss",
            start_date=start,
            end_date=end,
            currency=self._currency,
            period=f"{start} to {end}",
            comparative_period=f"{previous_start} to {previous_end}",
            lines=lines_out,
        )

    async def financial_position(self, *, as_of: date | None, compare_to: date | None) -> Statement:
        """As at the end of `as_of` (default: today)."""
        as_of = as_of or today()
        async with self._reader.connect() as connection:
            classes = await mfrs_classes(connection)
            year_start = await _year_start(connection, as_of)
            comparative = compare_to or year_start - timedelta(days=1)
            comparative_start = await _year_start(connection, comparative)
            now = await self._position(connection, classes, as_of, year_start)
            before = await self._position(connection, classes, comparative, comparative_start)
        lines_out = [
            self._line(key, label, now[key], before[key]) for key, label in _POSITION_LINES
        ]
        return Statement(
            title="Statement of financial position",
            start_date=None,
            end_date=as_of,
            currency=self._currency,
            period=f"as at {as_of}",
            comparative_period=f"as at {comparative}",
            lines=lines_out,
        )

    async def _position(
        self,
        connection: AsyncConnection,
        classes: dict[uuid.UUID, str],
        as_of: date,
        year_start: date,
    ) -> dict[str, int]:
        total = by_class(await sums(connection, after=None, until=as_of), classes)
        before_year = by_class(
            await sums(connection, after=None, until=year_start - timedelta(days=1)), classes
        )
        profit_classes = [mfrs_class for mfrs_class, _, _ in PROFIT_OR_LOSS]
        # debit-positive sums: assets as they are, the rest turned to their credit side
        figures = {
            str(c): total[c] if c.endswith("asset") else -total[c] for c, _ in FINANCIAL_POSITION
        }
        figures["current_year_profit"] = -sum(total[c] - before_year[c] for c in profit_classes)
        figures["unclosed_prior_profit"] = -sum(before_year[c] for c in profit_classes)
        figures["total_assets"] = figures["non_current_asset"] + figures["current_asset"]
        figures["total_equity"] = (
            figures["equity"] + figures["current_year_profit"] + figures["unclosed_prior_profit"]
        )
        figures["total_liabilities"] = (
            figures["non_current_liability"] + figures["current_liability"]
        )
        figures["total_equity_and_liabilities"] = (
            figures["total_equity"] + figures["total_liabilities"]
        )
        return figures

    def _line(self, key: str, label: str, amount: int, comparative: int) -> StatementLine:
        return StatementLine(
            key=str(key),
            label=label,
            amount=self._money(amount),
            comparative=self._money(comparative),
        )


_POSITION_LINES = [
    ("non_current_asset", "Non-current assets"),
    ("current_asset", "Current assets"),
    ("total_assets", "Total assets"),
    ("equity", "Share capital and reserves"),
    ("unclosed_prior_profit", "Retained profit of years not yet closed"),
    ("current_year_profit", "Profit for the current year"),
    ("total_equity", "Total equity"),
    ("non_current_liability", "Non-current liabilities"),
    ("current_liability", "Current liabilities"),
    ("total_liabilities", "Total liabilities"),
    ("total_equity_and_liabilities", "Total equity and liabilities"),
]


def _previous_range(start: date, end: date) -> tuple[date, date]:
    """The range just before: as many whole months when the range is whole months, else as
    many days (February's comparative is January, a quarter's the quarter before)."""
    previous_end = start - timedelta(days=1)
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if not whole_months:
        return previous_end - (end - start), previous_end
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    month_index = start.month - 1 - months
    return date(start.year + month_index // 12, month_index % 12 + 1, 1), previous_end


async def _account_days(
    connection: AsyncConnection, account_id: uuid.UUID, days: Any
) -> tuple[int, int]:
    """One account's posted (debit, credit) over the days that match `days`."""
    debit, credit = (
        await connection.execute(
            select(
                func.coalesce(func.sum(daily_balances.c.debit), 0),
                func.coalesce(func.sum(daily_balances.c.credit), 0),
            ).where(daily_balances.c.account_id == account_id, days)
        )
    ).one()
    return int(debit), int(credit)


def _side(account: Any) -> Side:
    return normal_balance(AccountType(account.type), is_contra=account.is_contra)


def _normal(side: Side, debit: int, credit: int) -> int:
    """The balance, positive on the account's normal side."""
    return debit - credit if side is Side.DEBIT else credit - debit


async def _start_of_year_holding(connection: AsyncConnection, day: date) -> date:
    year = await year_covering(connection, day)
    if year is None:
        raise NoFiscalYear(f"No fiscal year covers {day}: give start and end.")
    start: date = year.start_date
    return start


async def _year_start(connection: AsyncConnection, day: date) -> date:
    year = await year_covering(connection, day)
    return year.start_date if year is not None else date(day.year, 1, 1)


async def _account(connection: AsyncConnection, account_id: uuid.UUID) -> Any:
    row = (await connection.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if row is None:
        raise AccountNotFound()
    return row


def _encode(day: date, sequence: int, line_number: int) -> str:
    return base64.urlsafe_b64encode(
        json.dumps([day.isoformat(), sequence, line_number]).encode()
    ).decode()


def _decode(cursor: str) -> tuple[date, int, int]:
    try:
        day, sequence, line_number = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return date.fromisoformat(day), int(sequence), int(line_number)
    except (ValueError, TypeError) as error:
        raise InvalidInput("The cursor is not one this API gave out.") from error
