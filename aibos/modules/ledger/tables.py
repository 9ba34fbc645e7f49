"""Core tables behind the ledger's models, for typed, fast queries."""

from aibos.modules.ledger.models import (
    Account,
    DailyBalance,
    Entry,
    ExchangeRate,
    FiscalYear,
    Line,
    Period,
)
from aibos.platform.db import table_of

accounts = table_of(Account)
fiscal_years = table_of(FiscalYear)
periods = table_of(Period)
rates = table_of(ExchangeRate)
entries = table_of(Entry)
lines = table_of(Line)
daily_balances = table_of(DailyBalance)
