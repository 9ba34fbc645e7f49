"""Core tables behind the ledger's models, for typed, fast queries."""

from aibos.modules.ledger.models import (
    Account,
    DailyBalance,
    Entry,
    EntryMaker,
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
entry_makers = table_of(EntryMaker)
lines = table_of(Line)
daily_balances = table_of(DailyBalance)
