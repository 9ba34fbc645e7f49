"""Fill a bench database with posted two-line entries, straight through asyncpg COPY.

bench/ledger.py calls `seed` on its own database once the posting runs are over. The rows are
those posting would have written: `ledger_entry` posted, numbered in date order after the
fiscal year's counter, `ledger_line` posted with one-sided debits and credits that balance per
entry, `ledger_daily_balance` summed per account and day (added to what is there), and the
year's `last_entry_number` moved past the last number used.

PostgreSQL triggers guard posted entries (alembic 0004): lines may not be added to an entry
already posted, and a deferred trigger re-adds every posted entry's lines at commit. A bulk
load written in the right order would still pay for 500,000 of those checks, so the seeding
transaction sets `session_replication_role = replica`, which switches off the triggers (and
the foreign key checks) for that transaction only. `check` then proves afterwards, in SQL, that
the books are as the triggers would have kept them.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

CHUNK_ENTRIES = 50_000
MAX_MINOR = 999_999
HOT_SHARE = 0.2  # one entry in five touches the cash account: the busy account
ENTRY_COLUMNS = (
    "id",
    "number",
    "fiscal_year_id",
    "sequence",
    "entry_date",
    "description",
    "reference",
    "source",
    "status",
    "total",
    "created_by",
    "created_at",
    "posted_by",
    "posted_at",
)
LINE_COLUMNS = (
    "id",
    "entry_id",
    "line_number",
    "account_id",
    "entry_date",
    "posted",
    "debit",
    "credit",
    "currency",
    "amount",
    "rate",
    "memo",
)


@dataclass(frozen=True)
class Seeded:
    entries: int
    lines: int
    first_sequence: int
    last_sequence: int
    seconds: float
    vacuum_seconds: float


@dataclass(frozen=True)
class Books:
    """What `check` found: every figure must agree for the books to be consistent."""

    posted_entries: int
    counter: int
    max_sequence: int
    distinct_sequences: int
    line_debits: int
    line_credits: int
    entry_totals: int
    balance_debits: int
    balance_credits: int
    unbalanced_entries: int
    mismatched_days: int
    lines: int

    @property
    def consistent(self) -> bool:
        return (
            self.posted_entries == self.counter == self.max_sequence == self.distinct_sequences
            and self.line_debits == self.line_credits == self.entry_totals
            and self.balance_debits == self.line_debits
            and self.balance_credits == self.line_credits
            and self.unbalanced_entries == 0
            and self.mismatched_days == 0
        )

    def describe(self) -> str:
        return (
            f"{self.posted_entries} posted entries, {self.lines} lines, counter {self.counter},"
            f" max sequence {self.max_sequence}, {self.distinct_sequences} distinct;"
            f" debits {self.line_debits} credits {self.line_credits} (minor units),"
            f" day balances {self.balance_debits}/{self.balance_credits};"
            f" unbalanced entries {self.unbalanced_entries},"
            f" (account, day) sums differing from the lines {self.mismatched_days}"
        )


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def seed(
    dsn: str,
    total_entries: int,
    *,
    cash_code: str,
    say: Callable[[str], None],
    seed_value: int = 7,
) -> Seeded:
    """Add `total_entries` posted entries spread evenly over the open fiscal year."""
    began = time.perf_counter()
    rng = random.Random(seed_value)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        accounts = await connection.fetch("SELECT id, code FROM ledger_account ORDER BY code")
        cash = next(row["id"] for row in accounts if row["code"] == cash_code)
        others = [row["id"] for row in accounts if row["code"] != cash_code]
        user = await connection.fetchval("SELECT id FROM users_user ORDER BY created_at LIMIT 1")
        days = _days(
            *await connection.fetchrow("SELECT min(start_date), max(end_date) FROM ledger_period")
        )
        one = Decimal(1)
        balances: dict[tuple[uuid.UUID, date], list[int]] = {}
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            year_id, year_name, counter = await connection.fetchrow(
                "SELECT id, name, last_entry_number FROM ledger_fiscal_year"
                " WHERE status = 'open' ORDER BY start_date LIMIT 1 FOR UPDATE"
            )
            first_sequence = sequence = counter + 1
            per_day, extra = divmod(total_entries, len(days))
            entry_rows: list[tuple[Any, ...]] = []
            line_rows: list[tuple[Any, ...]] = []
            stamp = datetime(2026, 1, 1, tzinfo=UTC)
            for index, day in enumerate(days):
                for _ in range(per_day + (1 if index < extra else 0)):
                    if rng.random() < HOT_SHARE:
                        debit, credit = cash, rng.choice(others)
                        if rng.random() < 0.5:
                            debit, credit = credit, debit
                    else:
                        debit, credit = rng.sample(others, 2)
                    minor = rng.randint(100, MAX_MINOR)
                    entry_id = uuid.uuid4()
                    posted_at = stamp + timedelta(seconds=sequence)
                    entry_rows.append(
                        (
                            entry_id,
                            f"JE-{year_name}-{sequence:06d}",
                            year_id,
                            sequence,
                            day,
                            "seeded",
                            "",
                            "seed",
                            "posted",
                            minor,
                            user,
                            posted_at,
                            user,
                            posted_at,
                        )
                    )
                    line_rows.append(
                        (
                            uuid.uuid4(),
                            entry_id,
                            1,
                            debit,
                            day,
                            True,
                            minor,
                            0,
                            "MYR",
                            minor,
                            one,
                            "",
                        )
                    )
                    line_rows.append(
                        (
                            uuid.uuid4(),
                            entry_id,
                            2,
                            credit,
                            day,
                            True,
                            0,
                            minor,
                            "MYR",
                            minor,
                            one,
                            "",
                        )
                    )
                    balances.setdefault((debit, day), [0, 0])[0] += minor
                    balances.setdefault((credit, day), [0, 0])[1] += minor
                    sequence += 1
                if len(entry_rows) >= CHUNK_ENTRIES or index == len(days) - 1:
                    await connection.copy_records_to_table(
                        "ledger_entry", records=entry_rows, columns=ENTRY_COLUMNS
                    )
                    await connection.copy_records_to_table(
                        "ledger_line", records=line_rows, columns=LINE_COLUMNS
                    )
                    say(f"    {sequence - first_sequence} entries copied")
                    entry_rows, line_rows = [], []
            await connection.execute(
                "CREATE TEMPORARY TABLE seed_balance (account_id uuid, day date, debit bigint,"
                " credit bigint) ON COMMIT DROP"
            )
            await connection.copy_records_to_table(
                "seed_balance",
                records=[(key[0], key[1], sums[0], sums[1]) for key, sums in balances.items()],
            )
            await connection.execute(
                "INSERT INTO ledger_daily_balance (account_id, day, debit, credit)"
                " SELECT account_id, day, debit, credit FROM seed_balance"
                " ON CONFLICT (account_id, day) DO UPDATE SET"
                " debit = ledger_daily_balance.debit + excluded.debit,"
                " credit = ledger_daily_balance.credit + excluded.credit"
            )
            await connection.execute(
                "UPDATE ledger_fiscal_year SET last_entry_number = $2 WHERE id = $1",
                year_id,
                sequence - 1,
            )
        seconds = time.perf_counter() - began
        # What autovacuum would have done by the time a year of postings is in: statistics for
        # the planner and a visibility map for index-only scans.
        vacuum_began = time.perf_counter()
        await connection.execute("VACUUM ANALYZE ledger_entry, ledger_line, ledger_daily_balance")
        vacuum_seconds = time.perf_counter() - vacuum_began
    finally:
        await connection.close()
    return Seeded(
        entries=total_entries,
        lines=2 * total_entries,
        first_sequence=first_sequence,
        last_sequence=sequence - 1,
        seconds=seconds,
        vacuum_seconds=vacuum_seconds,
    )


CHECKS = """
SELECT
  (SELECT count(*) FROM ledger_entry WHERE status IN ('posted', 'reversed')) AS posted_entries,
  (SELECT coalesce(sum(last_entry_number), 0) FROM ledger_fiscal_year) AS counter,
  (SELECT coalesce(max(sequence), 0) FROM ledger_entry) AS max_sequence,
  (SELECT count(DISTINCT (fiscal_year_id, sequence)) FROM ledger_entry
    WHERE sequence IS NOT NULL) AS distinct_sequences,
  (SELECT coalesce(sum(debit), 0) FROM ledger_line WHERE posted) AS line_debits,
  (SELECT coalesce(sum(credit), 0) FROM ledger_line WHERE posted) AS line_credits,
  (SELECT coalesce(sum(total), 0) FROM ledger_entry
    WHERE status IN ('posted', 'reversed')) AS entry_totals,
  (SELECT coalesce(sum(debit), 0) FROM ledger_daily_balance) AS balance_debits,
  (SELECT coalesce(sum(credit), 0) FROM ledger_daily_balance) AS balance_credits,
  (SELECT count(*) FROM (SELECT entry_id FROM ledger_line GROUP BY entry_id
    HAVING sum(debit) <> sum(credit) OR count(*) < 2) AS bad) AS unbalanced_entries,
  (SELECT count(*) FROM (
     SELECT account_id, entry_date AS day, sum(debit) AS debit, sum(credit) AS credit
       FROM ledger_line WHERE posted GROUP BY account_id, entry_date) AS l
     FULL JOIN ledger_daily_balance AS b ON b.account_id = l.account_id AND b.day = l.day
    WHERE l.debit IS DISTINCT FROM b.debit OR l.credit IS DISTINCT FROM b.credit
  ) AS mismatched_days,
  (SELECT count(*) FROM ledger_line) AS lines
"""


async def check(dsn: str) -> Books:
    """Whether the books hold together: numbering gapless, entries balanced, day balances equal
    to the lines they sum."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await connection.fetchrow(CHECKS, timeout=120)
    finally:
        await connection.close()
    return Books(**{key: int(value) for key, value in row.items()})
