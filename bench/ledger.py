"""Speed benchmark of the ledger: posting against a bare reference, a hot account, batches, and
reads at 1,000,000 posted lines.

    uv run python -m bench.ledger              # about 3 minutes; --help for durations

bench/ledger_profile.py shows where the time goes (in-process: CPU by step, SQL per request,
EXPLAIN of the deep ledger page).

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379.
It creates two fresh databases, `aibos_bench_ledger_<id>_api` and `..._ref`, migrates both
(`python -m aibos migrate`), makes an administrator (`python -m aibos create-admin`: every
permission, an accountant's included), starts the real API (`python -m aibos serve`,
AIBOS_ENV=production, one worker, log level WARNING), signs in, opens fiscal year 2026 and
imports a chart of 100 asset accounts (1000 is the cash account) through the API, copies the
chart and year into the reference database and starts bench/ledger_reference.py (Starlette +
asyncpg, one worker) on it. Then:

1. posting: bench/ledger_load.py (its own process) posts balanced two-line entries between two
   random accounts of the 100, dated 2026-06-15, `--connections` clients without pause, each
   request with a fresh Idempotency-Key: the API (`POST /api/v1/ledger/entries`,
   `"post": true`) and the reference on its own database take three turns each, so that the
   machine's drifting speed falls on both; entries/s of both, the API's p50 (the median of
   its turns) and p99 (the worst turn), the ratio (goal >= 0.5). A diagnostic run of the API
   without Idempotency-Key shows what taking and answering the key costs;
2. hot account: the same, every entry debiting the cash account; goal p99 < 250 ms, no 5xx and
   no deadlock (PostgreSQL's own count for the database, pg_stat_database.deadlocks);
3. batch: `POST /api/v1/ledger/entries/batch` of `--batch-size` two-line entries, one warm-up
   call, then `--batch-calls` calls one after the other and as many two at a time; goal:
   entries/s above the reference's from step 1;
4. reads: bench/ledger_seed.py adds `--seed-entries` posted entries over the year with COPY
   (triggers off for that transaction: session_replication_role = replica), checks the books
   in SQL, then times sequential requests: trial balance for the year and for June, the
   statement of financial position (goal < 100 ms each), and one page of 100 lines of the
   cash account's ledger, first and deep in the year through a cursor the API gave out
   (goal < 50 ms).

After the posting runs the books of both databases are checked (numbering gapless, every entry
balanced, day balances equal to their lines). At the end the servers are stopped, both databases
dropped and the run's Redis keys deleted, whatever happened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx
import uvloop

from bench.ledger_seed import Books, check, seed
from bench.load import machine_busy_seconds, percentile
from bench.run import (
    HOST,
    REPO,
    BenchError,
    Server,
    add_server_options,
    checked_api_env,
    child_env,
    delete_redis_keys,
    failed_with,
    run_checked,
    run_client,
    say,
    say_summary,
    start_server,
    stop_servers,
    wait_until_answers,
)

API = "/api/v1"
LEDGER = f"{API}/ledger"
ENTRIES = f"{LEDGER}/entries"
HEALTH = f"{API}/health"
PASSWORD = "Bench-" + secrets.token_hex(8) + "-9"
FIRST_CODE = 1000  # the cash account; 1000 .. 1099
ACCOUNT_COUNT = 100
POSTING_DATE = "2026-06-15"
YEAR_START = date(2026, 1, 1)
THRESHOLD = "10000.00"
POSTING_TURNS = 3  # the API and the reference alternate
TURN_WARMUP_SECONDS = 1.0
PHASES = ("posting", "hot", "batch", "reads")
BATCH_TIMEOUT_SECONDS = 120.0
READ_TIMEOUT_SECONDS = 30.0
READ_WARMUP = 3


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    connections: int
    batch_size: int
    batch_calls: int
    seed_entries: int
    read_samples: int
    diagnostics: bool
    phases: tuple[str, ...]
    api_env: dict[str, str]
    pg_port: int
    redis_url: str

    def admin_dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/{database}"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


class Databases(Protocol):
    """Where the run's PostgreSQL is: what the helpers below need of a bench's options."""

    def admin_dsn(self) -> str: ...

    def dsn(self, database: str) -> str: ...


# --- PostgreSQL --------------------------------------------------------------------------------


async def admin_execute(options: Databases, statement: str) -> None:
    connection = await asyncpg.connect(options.admin_dsn(), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def deadlocks(options: Databases, database: str) -> int:
    connection = await asyncpg.connect(options.admin_dsn(), timeout=10)
    try:
        found = await connection.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return int(found or 0)


async def copy_chart(options: Options, source: str, target: str) -> uuid.UUID:
    """The API's fiscal year, periods and accounts into the reference's database, row for row;
    the administrator's id, for the reference's `created_by`."""
    reading = await asyncpg.connect(options.dsn(source), timeout=10)
    writing = await asyncpg.connect(options.dsn(target), timeout=10)
    try:
        for table in ("ledger_fiscal_year", "ledger_period", "ledger_account"):
            rows = await reading.fetch(f"SELECT * FROM {table}")  # noqa: S608 (fixed names)
            await writing.copy_records_to_table(
                table, records=[tuple(row.values()) for row in rows], columns=list(rows[0].keys())
            )
        user = await reading.fetchval("SELECT id FROM users_user ORDER BY created_at LIMIT 1")
    finally:
        await reading.close()
        await writing.close()
    assert isinstance(user, uuid.UUID)
    return user


# --- the load client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PostLoad:
    """One bench/ledger_load.py run, as arguments."""

    port: int
    path: str
    mode: str
    connections: int
    duration: float
    warmup: float
    headers: tuple[str, ...] = ()
    idempotency: bool = True
    watch: tuple[tuple[str, str], ...] = ()

    def args(self) -> list[str]:
        args = ["-m", "bench.ledger_load", "--port", str(self.port), "--path", self.path]
        args += ["--mode", self.mode, "--connections", str(self.connections)]
        args += ["--duration", str(self.duration), "--warmup", str(self.warmup)]
        args += ["--first-code", str(FIRST_CODE), "--accounts", str(ACCOUNT_COUNT)]
        args += ["--date", POSTING_DATE]
        if not self.idempotency:
            args.append("--no-idempotency-key")
        for header in self.headers:
            args += ["--header", header]
        for label, target in self.watch:
            args += ["--watch", f"{label}={target}"]
        return args


async def run_post_load(load: PostLoad) -> dict[str, Any]:
    return await run_client(load.args(), limit=load.warmup + load.duration + 30)


def failures(result: dict[str, Any]) -> int:
    return int(
        sum(result["non_201"].values()) + sum(result["errors"].values()) + result["timed_out"]
    )


def server_errors(result: dict[str, Any]) -> int:
    return sum(n for code, n in result["non_201"].items() if code.startswith("5"))


def failure_text(result: dict[str, Any]) -> str:
    parts = [f"{code}: {n}" for code, n in result["non_201"].items()]
    parts += [f"{name}: {n}" for name, n in result["errors"].items()]
    if result["timed_out"]:
        parts.append("timed out")
    return f"{failures(result)}" + (f" ({', '.join(parts)})" if parts else "")


def taken_together(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of equal length as one: rates and cores averaged, failures added up, the median
    of their p50s and the worst of their p99s."""

    def added(name: str) -> dict[str, int]:
        total: dict[str, int] = {}
        for run in runs:
            for key, count in run[name].items():
                total[key] = total.get(key, 0) + count
        return total

    return {
        "entries_per_second": statistics.mean(run["entries_per_second"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": max(run["p99_ms"] for run in runs),
        "max_ms": max(run["max_ms"] for run in runs),
        "non_201": added("non_201"),
        "errors": added("errors"),
        "timed_out": any(run["timed_out"] for run in runs),
        "client_cores": statistics.mean(run["client_cores"] for run in runs),
        "machine_busy_cores": statistics.mean(run["machine_busy_cores"] for run in runs),
        "watched_cores": {
            label: statistics.mean(run["watched_cores"][label] for run in runs)
            for label in runs[0]["watched_cores"]
        },
    }


def server_ms(result: dict[str, Any], label: str) -> float:
    """CPU milliseconds a watched group spent per entry posted."""
    per_second = float(result["entries_per_second"])
    return 1000 * float(result["watched_cores"][label]) / max(per_second, 1e-9)


def cores(result: dict[str, Any], label: str) -> str:
    watched: dict[str, float] = result["watched_cores"]
    return (
        f"cores: {label} {watched[label]:.2f}, postgres {watched['postgres']:.2f},"
        f" load client {result['client_cores']:.2f}, machine {result['machine_busy_cores']:.2f}"
        f" of {os.cpu_count()} | CPU per entry: {label} {server_ms(result, label):.2f} ms,"
        f" postgres {server_ms(result, 'postgres'):.2f} ms"
    )


def rate(result: dict[str, Any]) -> str:
    return (
        f"{result['entries_per_second']:.0f} entries/s p50 {result['p50_ms']:.1f} ms"
        f" p99 {result['p99_ms']:.1f} ms"
    )


# --- the bench ---------------------------------------------------------------------------------


@dataclass
class Bench:
    options: Options
    api_db: str
    ref_db: str
    api: Server
    reference: Server
    token: str
    cash_id: str
    results: dict[str, Any] = field(default_factory=dict)

    def watch(self, server: Server) -> tuple[tuple[str, str], ...]:
        database = self.api_db if server is self.api else self.ref_db
        return ((server.name, str(server.pid)), ("postgres", f"cmd:{database} "))

    def posting(self, server: Server, mode: str, *, idempotency: bool = True) -> PostLoad:
        is_api = server is self.api
        return PostLoad(
            port=server.port,
            path=ENTRIES if is_api else "/entries",
            mode=mode,
            connections=self.options.connections,
            duration=self.options.duration,
            warmup=self.options.warmup,
            headers=(f"Authorization: Bearer {self.token}",) if is_api else (),
            idempotency=idempotency,
            watch=self.watch(server),
        )

    def client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"http://{HOST}:{self.api.port}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=timeout,
        )


async def bench_posting(bench: Bench) -> list[str]:
    """The API and the reference take turns, so that a drift in the machine's speed, which a
    virtual machine shows from one minute to the next, falls on both alike."""
    options = bench.options
    segments: dict[str, list[dict[str, Any]]] = {bench.api.name: [], bench.reference.name: []}
    for turn in range(POSTING_TURNS):
        for server in (bench.api, bench.reference):
            load = replace(
                bench.posting(server, "spread"),
                duration=options.duration / POSTING_TURNS,
                warmup=options.warmup if turn == 0 else TURN_WARMUP_SECONDS,
            )
            result = await run_post_load(load)
            segments[server.name].append(result)
            say(
                f"  {server.name:<9} turn {turn + 1}: {rate(result)}"
                f" | non-201 {failure_text(result)}\n            {cores(result, server.name)}"
            )
    results = {name: taken_together(runs) for name, runs in segments.items()}
    api, reference = results["api"], results["reference"]
    bench.results["reference_rate"] = reference["entries_per_second"]
    ratio = api["entries_per_second"] / max(reference["entries_per_second"], 1e-9)
    cpu_ratio = server_ms(reference, "reference") / max(server_ms(api, "api"), 1e-9)
    bad = failures(api) + failures(reference)
    lines = [
        f"posting   api {rate(api)} | reference {reference['entries_per_second']:.0f} entries/s"
        f" p50 {reference['p50_ms']:.1f} ms | ratio {ratio:.2f} (goal >= 0.5:"
        f" {verdict(ratio >= 0.5 and bad == 0)}) | server CPU per entry api"
        f" {server_ms(api, 'api'):.2f} ms, reference {server_ms(reference, 'reference'):.2f} ms"
        f" (ratio {cpu_ratio:.2f}) | non-201 api {failures(api)} reference {failures(reference)}"
    ]
    if bench.options.diagnostics:
        bare = await run_post_load(bench.posting(bench.api, "spread", idempotency=False))
        say(
            f"  api without Idempotency-Key (diagnostic): {rate(bare)}"
            f" | non-201 {failure_text(bare)}\n            {cores(bare, 'api')}"
        )
        lines.append(
            f"          diagnostic: api without Idempotency-Key {rate(bare)}"
            f" ({bare['entries_per_second'] / max(api['entries_per_second'], 1e-9):.2f} x with"
            f" the key), CPU per entry api {server_ms(bare, 'api'):.2f} ms"
        )
    return lines


async def bench_hot(bench: Bench) -> list[str]:
    api = await run_post_load(bench.posting(bench.api, "hot"))
    say(f"  api       {rate(api)} | non-201 {failure_text(api)}\n            {cores(api, 'api')}")
    lines = []
    reference_text = ""
    if bench.options.diagnostics:
        reference = await run_post_load(bench.posting(bench.reference, "hot"))
        say(
            f"  reference {rate(reference)} | non-201 {failure_text(reference)}"
            f"\n            {cores(reference, 'reference')}"
        )
        reference_text = (
            f" | reference {reference['entries_per_second']:.0f} entries/s"
            f" p99 {reference['p99_ms']:.1f} ms"
        )
    bench.results["hot"] = api
    lines.append(
        f"hot       api {rate(api)} max {api['max_ms']:.0f} ms"
        f" (goal p99 < 250 ms: {verdict(api['p99_ms'] < 250)}) | non-201 {failures(api)},"
        f" 5xx {server_errors(api)} (goal no 5xx: {verdict(server_errors(api) == 0)})"
        f"{reference_text}"
    )
    return lines


def batch_body(call: int, size: int) -> list[dict[str, Any]]:
    """`size` balanced two-line entries between random accounts, all on one day of March."""
    rng = random.Random(1000 + call)
    day = (date(2026, 3, 1) + timedelta(days=call % 28)).isoformat()
    codes = [str(FIRST_CODE + n) for n in range(ACCOUNT_COUNT)]
    body = []
    for number in range(size):
        debit, credit = rng.sample(codes, 2)
        minor = rng.randint(100, 999_999)
        amount = f"{minor // 100}.{minor % 100:02d}"
        body.append(
            {
                "entry_date": day,
                "description": f"batch {call} entry {number}",
                "source": "bench",
                "lines": [
                    {"account_code": debit, "side": "debit", "amount": amount},
                    {"account_code": credit, "side": "credit", "amount": amount},
                ],
            }
        )
    return body


async def post_batch(client: httpx.AsyncClient, call: int, size: int) -> float:
    content = json.dumps(batch_body(call, size)).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    began = time.perf_counter()
    response = await client.post(f"{ENTRIES}/batch", content=content, headers=headers)
    seconds = time.perf_counter() - began
    if response.status_code != 201:
        raise BenchError(f"batch {call}: {response.status_code} {response.text[:500]}")
    posted = response.json()
    if len(posted) != size or any(entry["status"] != "posted" for entry in posted):
        raise BenchError(f"batch {call}: {len(posted)} entries back, not all posted")
    return seconds


async def bench_batch(bench: Bench) -> list[str]:
    size, calls = bench.options.batch_size, bench.options.batch_calls
    async with bench.client(BATCH_TIMEOUT_SECONDS) as client:
        warm = await post_batch(client, 0, size)
        say(f"  warm-up call: {size} entries in {warm * 1000:.0f} ms")
        began = time.perf_counter()
        sequential = [await post_batch(client, 1 + n, size) for n in range(calls)]
        sequential_rate = size * calls / (time.perf_counter() - began)
        say(
            f"  {calls} calls one after the other: {sequential_rate:.0f} entries/s, per call"
            f" {', '.join(f'{s * 1000:.0f}' for s in sequential)} ms"
        )
        began = time.perf_counter()
        paired: list[float] = []
        for pair in range(max(1, calls // 2)):
            paired += await asyncio.gather(
                post_batch(client, 100 + 2 * pair, size), post_batch(client, 101 + 2 * pair, size)
            )
        paired_rate = size * len(paired) / (time.perf_counter() - began)
        say(
            f"  {len(paired)} calls two at a time: {paired_rate:.0f} entries/s, per call"
            f" {', '.join(f'{s * 1000:.0f}' for s in paired)} ms"
        )
    reference = bench.results.get("reference_rate")
    best = max(sequential_rate, paired_rate)
    goal = (
        f"goal > reference {reference:.0f} entries/s: {verdict(best > reference)}"
        f" ({best / reference:.1f} x)"
        if reference
        else "goal > reference: n/a (run the posting phase too)"
    )
    return [
        f"batch     {size} entries a call: one at a time {sequential_rate:.0f} entries/s"
        f" (median call {statistics.median(sequential) * 1000:.0f} ms), two at a time"
        f" {paired_rate:.0f} entries/s | {goal}"
    ]


async def check_books(options: Databases, database: str, label: str) -> tuple[Books, str]:
    books = await check(options.dsn(database))
    text = f"{label}: {'consistent' if books.consistent else 'NOT CONSISTENT'}: {books.describe()}"
    say(f"  {text}")
    return books, text


@dataclass(frozen=True)
class Read:
    label: str
    path: str
    goal_ms: float
    checked: Callable[[dict[str, Any]], bool]


async def time_reads(client: httpx.AsyncClient, read: Read, samples: int) -> dict[str, Any]:
    timings, size = [], 0
    for attempt in range(READ_WARMUP + samples):
        began = time.perf_counter()
        response = await client.get(read.path)
        seconds = time.perf_counter() - began
        if response.status_code != 200 or not read.checked(response.json()):
            raise BenchError(f"{read.label}: {response.status_code} {response.text[:300]}")
        size = len(response.content)
        if attempt >= READ_WARMUP:
            timings.append(seconds)
    ordered = sorted(timings)
    return {
        "p50_ms": percentile(ordered, 0.5) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "over_goal": sum(seconds * 1000 >= read.goal_ms for seconds in ordered),
        "slowest": 1 + timings.index(ordered[-1]),
        "bytes": size,
    }


def balanced(report: dict[str, Any]) -> bool:
    return bool(report["rows"]) and report["total_debits"] == report["total_credits"]


def full_page(page: dict[str, Any]) -> bool:
    return len(page["data"]) == 100 and page["next_cursor"] is not None


async def bench_reads(bench: Bench) -> list[str]:
    options = bench.options
    say(f"  seeding {options.seed_entries} posted two-line entries with COPY ...")
    seeded = await seed(
        options.dsn(bench.api_db), options.seed_entries, cash_code=str(FIRST_CODE), say=say
    )
    seeded_books, seeded_text = await check_books(options, bench.api_db, "books after seeding")
    if not seeded_books.consistent:
        raise BenchError("the seeded books do not hold together: the read figures would lie")
    say(
        f"  seeded {seeded.entries} entries ({seeded.lines} lines), numbers"
        f" {seeded.first_sequence}..{seeded.last_sequence}, in {seeded.seconds:.1f} s"
        f" ({seeded.entries / seeded.seconds:.0f} entries/s) + VACUUM ANALYZE"
        f" {seeded.vacuum_seconds:.1f} s; triggers off while seeding"
        " (session_replication_role = replica), the books checked in SQL afterwards"
    )
    ledger = f"{LEDGER}/accounts/{bench.cash_id}/ledger"
    async with bench.client(READ_TIMEOUT_SECONDS) as client:
        start_page = (await client.get(f"{ledger}?start=2026-11-01&size=100")).json()
        cursor = start_page["next_cursor"]
        if cursor is None:
            raise BenchError("the cash account has no second page from 2026-11-01")
        reads = [
            Read(
                "trial balance, year",
                f"{LEDGER}/reports/trial-balance?end=2026-12-31",
                100,
                balanced,
            ),
            Read(
                "trial balance, June",
                f"{LEDGER}/reports/trial-balance?start=2026-06-01&end=2026-06-30",
                100,
                balanced,
            ),
            Read(
                "financial position",
                f"{LEDGER}/reports/financial-position?as_of=2026-12-31",
                100,
                lambda statement: len(statement["lines"]) > 0,
            ),
            Read("ledger page, first", f"{ledger}?size=100", 50, full_page),
            Read("ledger page, deep (cursor)", f"{ledger}?size=100&cursor={cursor}", 50, full_page),
        ]
        if options.diagnostics:
            reads.append(
                Read(
                    "ledger page, deep (start+cursor) [diag]",
                    f"{ledger}?size=100&start=2026-11-01&cursor={cursor}",
                    50,
                    full_page,
                )
            )
        lines_of_cash = await asyncpg_count_lines(options.dsn(bench.api_db), bench.cash_id)
        say(
            f"  {options.read_samples} requests each, one at a time after {READ_WARMUP} unmeasured;"
            f" cash account {lines_of_cash} posted lines; deep cursor from the page after"
            f" ?start=2026-11-01; p99 of {options.read_samples} samples is about the slowest"
            " answer, so the count of answers over the goal is shown too"
        )
        summary = [
            f"reads     seeded {seeded.entries} entries in {seeded.seconds:.0f} s with triggers"
            f" off (session_replication_role = replica); {seeded_text}"
        ]
        for read in reads:
            found = await time_reads(client, read, options.read_samples)
            met = found["p99_ms"] < read.goal_ms
            line = (
                f"  {read.label:<39} p50 {found['p50_ms']:6.1f} ms p99 {found['p99_ms']:6.1f} ms"
                f" max {found['max_ms']:6.1f} ms, {found['bytes']} bytes"
                f" | goal p99 < {read.goal_ms:.0f} ms: {verdict(met)}"
                f" ({found['over_goal']} of {options.read_samples} over; slowest: sample"
                f" {found['slowest']})"
            )
            say(line)
            summary.append(f"        {line}")
    return summary


async def asyncpg_count_lines(dsn: str, account_id: str) -> int:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        found = await connection.fetchval(
            "SELECT count(*) FROM ledger_line WHERE account_id = $1 AND posted",
            uuid.UUID(account_id),
        )
    finally:
        await connection.close()
    return int(found)


PHASE_RUNNERS: dict[str, Callable[[Bench], Awaitable[list[str]]]] = {
    "posting": bench_posting,
    "hot": bench_hot,
    "batch": bench_batch,
    "reads": bench_reads,
}


def describe(phase: str, options: Options) -> str:
    clients = f"{options.connections} clients"
    span = f"{options.warmup:g} s warm-up + {options.duration:g} s"
    if phase == "posting":
        return (
            f"posting: POST {ENTRIES} (post: true, a fresh Idempotency-Key each), two-line"
            f" entries between random accounts of {ACCOUNT_COUNT}, dated {POSTING_DATE},"
            f" {clients}, {span}; api, then the reference"
            + (", then api without Idempotency-Key" if options.diagnostics else "")
        )
    if phase == "hot":
        return (
            f"hot account: every entry debits {FIRST_CODE} (cash) and credits one of the other"
            f" {ACCOUNT_COUNT - 1}, {clients}, {span}"
            + ("; api, then the reference" if options.diagnostics else "")
        )
    if phase == "batch":
        return (
            f"batch: POST {ENTRIES}/batch, {options.batch_size} two-line entries a call,"
            f" 1 warm-up call, {options.batch_calls} calls one at a time, then two at a time"
        )
    return (
        f"reads at {2 * options.seed_entries:,} more posted lines: trial balance, financial"
        " position, account ledger pages"
    )


# --- the run -----------------------------------------------------------------------------------


def chart_csv() -> str:
    rows = ["code,name,type,mfrs_class,parent_code,currency"]
    rows.append(f"{FIRST_CODE},Cash at bank,asset,current_asset,,")
    rows += [
        f"{FIRST_CODE + n},Bench account {n},asset,current_asset,," for n in range(1, ACCOUNT_COUNT)
    ]
    return "\n".join(rows) + "\n"


async def set_up_books(api: Server, email: str) -> tuple[str, str]:
    """Sign in, open the fiscal year, import the chart: the access token and the cash account."""
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{api.port}", timeout=30) as client:
        response = await client.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        if response.status_code != 200:
            raise BenchError(f"login: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        response = await client.post(
            f"{LEDGER}/fiscal-years", json={"start_date": YEAR_START.isoformat()}
        )
        if response.status_code != 201:
            raise BenchError(f"fiscal year: {response.status_code} {response.text}")
        response = await client.post(
            f"{LEDGER}/accounts/import",
            content=chart_csv().encode(),
            headers={"Content-Type": "text/csv"},
        )
        if response.status_code != 201 or response.json()["loaded"] != ACCOUNT_COUNT:
            raise BenchError(f"chart import: {response.status_code} {response.text}")
        response = await client.get(f"{LEDGER}/accounts", params={"q": str(FIRST_CODE)})
        cash = [row for row in response.json()["data"] if row["code"] == str(FIRST_CODE)]
        if response.status_code != 200 or not cash:
            raise BenchError(f"accounts: {response.status_code} {response.text}")
        return token, str(cash[0]["id"])


def books_env(options: Databases, database: str, redis_url: str, namespace: str) -> dict[str, str]:
    """The API's environment for a run on `database`: production, quiet, its own Redis keys."""
    url = options.dsn(database).replace("postgresql://", "postgresql+asyncpg://")
    return child_env(
        {
            "AIBOS_ENV": "production",
            "AIBOS_DATABASE_URL": url,
            "AIBOS_REDIS_URL": redis_url,
            "AIBOS_SECRET_KEY": secrets.token_urlsafe(48),
            # Production wants an SMTP server; what a run mails goes nowhere.
            "AIBOS_SMTP_HOST": "127.0.0.1",
            "AIBOS_CACHE_NAMESPACE": namespace,
            "AIBOS_LOG_LEVEL": "WARNING",
            "AIBOS_APPROVAL_THRESHOLD": THRESHOLD,
        }
    )


async def start_books_api(
    env: dict[str, str], tried: dict[str, str], workdir: Path, email: str, servers: list[Server]
) -> tuple[Server, str, str]:
    """Migrate the database `env` names, make the administrator, start the real API (with the
    `tried` settings on top) and set up the books: the server (also added to `servers`, which
    the caller stops), an access token and the cash account's id."""
    await run_checked(["-m", "aibos", "migrate"], env, workdir)
    await run_checked(
        ["-m", "aibos", "create-admin", "--email", email, "--password", PASSWORD], env, workdir
    )
    api = await start_server("api", ["-m", "aibos", "serve"], {**env, **tried}, workdir, workdir)
    servers.append(api)
    await wait_until_answers(api, HEALTH)
    token, cash_id = await set_up_books(api, email)
    return api, token, cash_id


async def machine_load(seconds: float = 1.0) -> float:
    before, began = machine_busy_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    return (machine_busy_seconds() - before) / (time.perf_counter() - began)


async def main_async(options: Options) -> int:
    run_id = secrets.token_hex(4)
    api_db, ref_db = f"aibos_bench_ledger_{run_id}_api", f"aibos_bench_ledger_{run_id}_ref"
    namespace = f"aibos-bench-ledger-{run_id}"
    email = f"bench-ledger-{run_id}@example.com"
    api_env = books_env(options, api_db, options.redis_url, namespace)
    ref_env = books_env(options, ref_db, options.redis_url, namespace)
    idle_load = await machine_load()
    began = time.perf_counter()
    say(
        f"bench ledger: databases {api_db} (api) and {ref_db} (reference), {os.cpu_count()}"
        " cores; servers: one worker each (uvloop, httptools); load client:"
        " bench/ledger_load.py in its own process\n  API: AIBOS_ENV=production"
        f" AIBOS_LOG_LEVEL=WARNING AIBOS_APPROVAL_THRESHOLD={THRESHOLD}"
        + "".join(f" {key}={value}" for key, value in options.api_env.items())
        + "\n  reference: bench/ledger_reference.py (Starlette + asyncpg, the same writes in one"
        " transaction per entry, no auth, no Idempotency-Key) on its own database, migrated the"
        " same way\n"
        f"  before the run, other processes kept {idle_load:.2f} of {os.cpu_count()} cores busy"
        + (": expect lower, noisier figures" if idle_load > 0.2 else "")
    )
    summary: list[str] = []
    servers: list[Server] = []
    created: list[str] = []
    failed = False
    found_deadlocks: dict[str, int] = {}
    writes = [phase for phase in options.phases if phase != "reads"]
    last_write = writes[-1] if writes else None
    with tempfile.TemporaryDirectory(prefix="aibos-bench-ledger-") as scratch:
        workdir = Path(scratch)  # no stray .env is read: the servers start here
        try:
            for database in (api_db, ref_db):
                await admin_execute(options, f'CREATE DATABASE "{database}"')
                created.append(database)
            await run_checked(["-m", "aibos", "migrate"], ref_env, workdir)
            api, token, cash_id = await start_books_api(
                api_env, options.api_env, workdir, email, servers
            )
            user = await copy_chart(options, api_db, ref_db)
            reference = await start_server(
                "reference",
                ["-m", "bench.ledger_reference"],
                {**ref_env, "BENCH_LEDGER_USER": str(user)},
                REPO,
                workdir,
            )
            servers.append(reference)
            await wait_until_answers(reference, "/health")
            bench = Bench(options, api_db, ref_db, api, reference, token, cash_id)
            say(
                f"  api pid {api.pid}, reference pid {reference.pid}; setup took"
                f" {time.perf_counter() - began:.0f} s"
            )
            for number, phase in enumerate(options.phases, 1):
                say(f"\n[{number}/{len(options.phases)}] {describe(phase, options)}")
                summary += await PHASE_RUNNERS[phase](bench)
                if phase == last_write:  # the books as the API and the reference left them
                    api_books, text = await check_books(options, api_db, "api books")
                    ref_books, ref_text = await check_books(options, ref_db, "reference books")
                    summary.append(f"books     {text}")
                    summary.append(f"          {ref_text}")
                    failed |= not (api_books.consistent and ref_books.consistent)
                for server in servers:
                    if server.process.returncode is not None:
                        raise BenchError(f"{server.name} died:\n{server.log_tail()}")
        except BenchError as error:
            return failed_with(error, servers)
        finally:
            await stop_servers(servers)
            # Read once the servers are gone: a backend's counters reach pg_stat_database when
            # it exits, an idle one's only up to 10 s later.
            await asyncio.sleep(1.0)
            for database in created:
                found_deadlocks[database] = await deadlocks(options, database)
            for database in created:
                await admin_execute(options, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            removed = await delete_redis_keys(options.redis_url, namespace)
            say(
                f"\ncleanup: servers stopped, databases {', '.join(created) or 'none'} dropped,"
                f" {removed} Redis keys of {namespace} deleted;"
                f" the run took {time.perf_counter() - began:.0f} s"
            )
    if api_db in found_deadlocks and ref_db in found_deadlocks:
        summary.append(
            f"deadlocks PostgreSQL's count over the whole run (pg_stat_database.deadlocks): api"
            f" {found_deadlocks[api_db]}, reference {found_deadlocks[ref_db]}"
            f" (goal for the API: 0: {verdict(found_deadlocks[api_db] == 0)})"
        )
    say_summary(summary)
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Speed benchmark of the AIBOS ledger.")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per load")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per load")
    parser.add_argument("--connections", type=int, default=50, help="posting clients")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-calls", type=int, default=4)
    parser.add_argument("--seed-entries", type=int, default=500_000)
    parser.add_argument("--read-samples", type=int, default=30)
    parser.add_argument(
        "--no-diagnostics",
        action="store_true",
        help="skip the extra runs (api without Idempotency-Key, reference on the hot account,"
        " ledger page with start + cursor)",
    )
    parser.add_argument(
        "--only", action="append", choices=PHASES, help="run only this part (repeatable)"
    )
    add_server_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 10:
        parser.error("--duration must be in [1, 60] and --warmup in [0, 10]")
    if not 1 <= args.connections <= 200:
        parser.error("--connections must be in [1, 200]")
    if not 1 <= args.batch_size <= 1000 or not 1 <= args.batch_calls <= 20:
        parser.error("--batch-size must be in [1, 1000] and --batch-calls in [1, 20]")
    if not 1_000 <= args.seed_entries <= 2_000_000 or not 1 <= args.read_samples <= 1000:
        parser.error("--seed-entries must be in [1000, 2000000], --read-samples in [1, 1000]")
    api_env = checked_api_env(parser, args)
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        batch_size=args.batch_size,
        batch_calls=args.batch_calls,
        seed_entries=args.seed_entries,
        read_samples=args.read_samples,
        diagnostics=not args.no_diagnostics,
        phases=tuple(phase for phase in PHASES if not args.only or phase in args.only),
        api_env=api_env,
        pg_port=args.pg_port,
        redis_url=args.redis_url,
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    sys.exit(uvloop.run(main_async(options)))


if __name__ == "__main__":
    main()
