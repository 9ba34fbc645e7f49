"""The floor for posting a journal entry: bare Starlette + asyncpg writing the same rows.

    AIBOS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB BENCH_LEDGER_USER=<uuid> \\
        uv run python -m bench.ledger_reference --port 8001

bench/ledger.py starts it on a database of its own, migrated as the API's is (same tables, same
triggers) and given the same chart and fiscal year, and drives it with bench/ledger_load.py
exactly as it drives the API: `POST /entries` with the API's JSON body. Per request, one
transaction that does what posting must do at the least, one statement each:

1. read the accounts named by the lines (`ledger_account` by code) and the open period of the
   date (`ledger_period` FOR KEY SHARE, as the API locks it against a concurrent close);
2. insert the entry (as a draft: a trigger refuses lines of an entry already posted) and its
   posted lines (one `unnest` insert);
3. add the lines to `ledger_daily_balance` (one upsert, rows in account order, as the API does
   so that concurrent postings lock in the same order);
4. take the next number from `ledger_fiscal_year.last_entry_number` (UPDATE ... RETURNING),
   last, and mark the entry posted with it; the deferred trigger checks the balance at commit.

A lock conflict (deadlock, serialization failure) runs the transaction again, up to 5 times.
No authentication, no Idempotency-Key, no framework dependency injection, no ORM, no
middleware; the answer is the entry's id, number and status. One uvicorn worker, uvloop and
httptools, an asyncpg pool as large as the API's (pool size + overflow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ATTEMPTS = 5
MINOR_UNITS = 100  # MYR: two decimals
ACCOUNTS = "SELECT id, code FROM ledger_account WHERE code = any($1::text[]) AND is_active"
OPEN_PERIOD = (
    "SELECT fiscal_year_id FROM ledger_period WHERE start_date <= $1 AND end_date >= $1"
    " AND status = 'open' FOR KEY SHARE"
)
INSERT_ENTRY = (
    "INSERT INTO ledger_entry (id, entry_date, description, reference, source, status, total,"
    " created_by, created_at) VALUES ($1, $2, $3, '', '', 'draft', $4, $5, $6)"
)
INSERT_LINES = (
    "INSERT INTO ledger_line (id, entry_id, line_number, account_id, entry_date, posted, debit,"
    " credit, currency, amount, rate, memo)"
    " SELECT line.id, $2, line.number, line.account_id, $3, true, line.debit, line.credit,"
    " 'MYR', line.amount, 1, ''"
    " FROM unnest($1::uuid[], $4::int[], $5::uuid[], $6::bigint[], $7::bigint[], $8::bigint[])"
    " AS line(id, number, account_id, debit, credit, amount)"
)
ADD_TO_BALANCES = (
    "INSERT INTO ledger_daily_balance (account_id, day, debit, credit)"
    " SELECT day_row.account_id, $2, day_row.debit, day_row.credit"
    " FROM unnest($1::uuid[], $3::bigint[], $4::bigint[]) AS day_row(account_id, debit, credit)"
    " ON CONFLICT (account_id, day) DO UPDATE SET"
    " debit = ledger_daily_balance.debit + excluded.debit,"
    " credit = ledger_daily_balance.credit + excluded.credit"
)
NEXT_NUMBER = (
    "UPDATE ledger_fiscal_year SET last_entry_number = last_entry_number + 1 WHERE id = $1"
    " RETURNING last_entry_number, name"
)
MARK_POSTED = (
    "UPDATE ledger_entry SET status = 'posted', fiscal_year_id = $2, sequence = $3, number = $4,"
    " posted_by = $5, posted_at = $6 WHERE id = $1"
)
CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


class Refused(Exception):
    pass


def _minor(amount: Any) -> int:
    try:
        value = Decimal(str(amount)) * MINOR_UNITS
    except InvalidOperation as error:
        raise Refused("amount") from error
    if value != value.to_integral_value() or value <= 0:
        raise Refused("amount")
    return int(value)


def _lines(body: Any) -> list[tuple[str, int, int]]:
    """(account code, debit, credit) per line; refused unless two or more, balanced."""
    rows = []
    for line in body["lines"]:
        minor = _minor(line["amount"])
        debit = line["side"] == "debit"
        rows.append((str(line["account_code"]), minor if debit else 0, 0 if debit else minor))
    if len(rows) < 2 or sum(row[1] for row in rows) != sum(row[2] for row in rows):
        raise Refused("unbalanced")
    return rows


async def _post(
    connection: asyncpg.Connection, user: uuid.UUID, day: date, description: str, rows: list[Any]
) -> dict[str, Any]:
    async with connection.transaction():
        found = {
            row["code"]: row["id"]
            for row in await connection.fetch(ACCOUNTS, list({row[0] for row in rows}))
        }
        if len(found) != len({row[0] for row in rows}):
            raise Refused("account")
        year_id = await connection.fetchval(OPEN_PERIOD, day)
        if year_id is None:
            raise Refused("period")
        entry_id, now = uuid.uuid4(), datetime.now(UTC)
        total = sum(row[1] for row in rows)
        await connection.execute(INSERT_ENTRY, entry_id, day, description, total, user, now)
        await connection.execute(
            INSERT_LINES,
            [uuid.uuid4() for _ in rows],
            entry_id,
            day,
            list(range(1, len(rows) + 1)),
            [found[row[0]] for row in rows],
            [row[1] for row in rows],
            [row[2] for row in rows],
            [row[1] or row[2] for row in rows],
        )
        sums: dict[uuid.UUID, list[int]] = {}
        for code, debit, credit in rows:
            total_row = sums.setdefault(found[code], [0, 0])
            total_row[0] += debit
            total_row[1] += credit
        ordered = sorted(sums.items(), key=lambda item: str(item[0]))  # the API's lock order
        await connection.execute(
            ADD_TO_BALANCES,
            [account for account, _ in ordered],
            day,
            [pair[0] for _, pair in ordered],
            [pair[1] for _, pair in ordered],
        )
        sequence, year_name = await connection.fetchrow(NEXT_NUMBER, year_id)
        number = f"JE-{year_name}-{sequence:06d}"
        await connection.execute(MARK_POSTED, entry_id, year_id, sequence, number, user, now)
    return {"id": str(entry_id), "number": number, "status": "posted"}


async def post_entry(request: Request) -> JSONResponse:
    try:
        body = json.loads(await request.body())
        day = date.fromisoformat(body["entry_date"])
        description = str(body["description"])
        rows = _lines(body)
    except (ValueError, KeyError, TypeError, Refused) as error:
        return JSONResponse({"detail": f"invalid entry: {error}"}, status_code=422)
    pool: asyncpg.Pool = request.app.state.pool
    user: uuid.UUID = request.app.state.user
    for attempt in range(ATTEMPTS):
        try:
            async with pool.acquire() as connection:
                answer = await _post(connection, user, day, description, rows)
            return JSONResponse(answer, status_code=201)
        except Refused as error:
            return JSONResponse({"detail": f"refused: {error}"}, status_code=422)
        except CONFLICTS:
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    return JSONResponse({"detail": "busy"}, status_code=503, headers={"Retry-After": "1"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["AIBOS_DATABASE_URL"]
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    size = int(os.environ.get("AIBOS_DB_POOL_SIZE", "20"))
    overflow = int(os.environ.get("AIBOS_DB_MAX_OVERFLOW", "0"))
    app.state.user = uuid.UUID(os.environ["BENCH_LEDGER_USER"])
    app.state.pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size + overflow)
    try:
        yield
    finally:
        await app.state.pool.close()


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    routes = [Route("/entries", post_entry, methods=["POST"]), Route("/health", health)]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare Starlette + asyncpg ledger posting.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
