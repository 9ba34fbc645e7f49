"""Where the time of posting a journal entry (and of the ledger's reads) goes, in-process.

    uv run python -m bench.ledger_profile             # about 1 minute; --help
    uv run python -m bench.ledger_profile --seed-entries 500000   # the reads too, ~3 minutes

Needs what bench/ledger.py needs (PostgreSQL and Redis on 127.0.0.1) and, like it, works in a
fresh database `aibos_bench_ledger_<random>_prof` that it drops at the end. The API app
(create_app, production settings) runs in this process and is called straight through ASGI, no
HTTP server and no client, so only the app's own work is counted:

1. POST /api/v1/ledger/entries (two-line entries, `post: true`, a fresh Idempotency-Key each):
   CPU per entry at `--concurrency` and one at a time, best of several batches, with and without
   the key; entries/s in-process;
2. the SQL of one posting: each statement the app sends (SQLAlchemy cursor events), how often
   and how long it took, one request at a time and at `--concurrency` (where the waits for the
   fiscal year's counter row show up);
3. a cProfile of the postings: own time by library and the heaviest functions;
4. with `--seed-entries`: the same statement timing for each read of bench/ledger.py.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import functools
import importlib
import json
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from bench.ledger_seed import seed
from bench.profile_me import library
from bench.run import HOST, BenchError, child_env, delete_redis_keys, run_checked

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
LEDGER = "/api/v1/ledger"
PASSWORD = "Bench-" + secrets.token_hex(8) + "-9"
CODES = [str(1000 + n) for n in range(100)]
BATCHES = 3


class App:
    """The API app called through ASGI: status and body of each answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.token = ""

    async def call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> tuple[int, bytes]:
        path, _, query = path.partition("?")
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [
                (b"host", HOST.encode()),
                (b"content-length", str(len(body)).encode()),
                *((b"authorization", f"Bearer {self.token}".encode()),) * bool(self.token),
                *headers,
            ],
            "client": (HOST, 50000),
            "server": (HOST, 8000),
            "state": {},
        }
        received = False
        status, chunks = 0, []

        async def receive() -> Message:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def json(self, method: str, path: str, payload: Any, expect: int) -> Any:
        body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        kind = b"text/csv" if isinstance(payload, bytes) else b"application/json"
        status, answer = await self.call(method, path, body, ((b"content-type", kind),))
        if status != expect:
            raise BenchError(f"{method} {path}: {status} {answer[:300]!r}")
        return json.loads(answer) if answer else None


def entry(rng: random.Random) -> bytes:
    debit, credit = rng.sample(CODES, 2)
    minor = rng.randint(100, 999_999)
    amount = f"{minor // 100}.{minor % 100:02d}"
    return json.dumps(
        {
            "entry_date": "2026-06-15",
            "description": "profile",
            "post": True,
            "lines": [
                {"account_code": debit, "side": "debit", "amount": amount},
                {"account_code": credit, "side": "credit", "amount": amount},
            ],
        }
    ).encode()


async def post_entries(app: App, count: int, concurrency: int, *, key: bool = True) -> None:
    remaining = count

    async def worker(number: int) -> None:
        nonlocal remaining
        rng = random.Random(number)
        while remaining > 0:
            remaining -= 1
            headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"application/json"),)
            if key:
                headers += ((b"idempotency-key", str(uuid.uuid4()).encode()),)
            status, body = await app.call("POST", f"{LEDGER}/entries", entry(rng), headers)
            if status != 201:
                raise BenchError(f"POST entries answered {status}: {body[:300]!r}")

    await asyncio.gather(*(worker(number) for number in range(concurrency)))


class StatementTimes:
    """Each SQL statement the app sends: how many times, the seconds from sending it to its
    answer (lock waits included), summed, and how often SQLAlchemy compiled it afresh instead of
    taking it from its compiled cache."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.times: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, *_: Any
    ) -> None:
        seconds = time.perf_counter() - conn.info["bench_started"].pop()
        key = " ".join(statement.split())
        self.times[key][0] += 1
        self.times[key][1] += seconds
        if context is not None and context.cache_hit is not CacheStats.CACHE_HIT:
            self.times[key][2] += 1

    def __enter__(self) -> StatementTimes:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def report(self, requests: int, wall: float, width: int = 110) -> None:
        total = sum(seconds for _, seconds, _ in self.times.values())
        count = sum(n for n, _, _ in self.times.values())
        fresh = sum(compiled for _, _, compiled in self.times.values())
        print(
            f"    {count / requests:.1f} statements per request (BEGIN, COMMIT and the pool's"
            f" pre-ping are not cursor statements: add 3 round trips per connection used);"
            f" {1000 * total / requests:.2f} ms in statements per request,"
            f" {1000 * wall / requests:.2f} ms wall per request; {fresh / requests:.2f} statements"
            " per request compiled afresh (not from SQLAlchemy's cache), marked *"
        )
        for statement, (n, seconds, compiled) in sorted(
            self.times.items(), key=lambda item: -item[1][1]
        ):
            mark = "*" if compiled else " "
            print(
                f"    {1000 * seconds / requests:7.2f} ms/req {n / requests:5.2f}x{mark}"
                f" {statement[:width]}"
            )


# Coroutines whose CPU is summed, one posting at a time (so that every CPU second the process
# spends between a step's start and its end is that step's): (module, class or "", name, label).
STEP_TARGETS = [
    ("aibos.modules.auth.authenticator", "TokenAuthenticator", "authenticate", "authenticate"),
    ("aibos.modules.ledger.service.entries", "EntryService", "create", "EntryService.create"),
    ("aibos.platform.idempotency", "Claim", "take", "  Claim.take (the key)"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_create", "  _create"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_prepare", "    _prepare"),
    ("aibos.modules.ledger.service.entries", "", "_open_year_of", "    _open_year_of"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_insert_lines", "    _insert_lines"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_book", "    _book"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_finish", "  _finish"),
    ("aibos.modules.ledger.service.entries", "EntryService", "_publics", "    _publics"),
    ("aibos.platform.idempotency", "Claim", "record", "    Claim.record"),
]


class StepCpu:
    """Process CPU while each STEP_TARGETS coroutine runs; meaningful one request at a time."""

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self._saved: list[tuple[Any, str, Any]] = []
        self.missing: list[str] = []

    def _timed(self, original: Any, label: str) -> Any:
        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                self.cpu[label] += time.process_time() - began
                self.calls[label] += 1

        return timed

    def __enter__(self) -> StepCpu:
        for module_name, class_name, name, label in STEP_TARGETS:
            owner: Any = importlib.import_module(module_name)
            if class_name:
                owner = getattr(owner, class_name, None)
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                self.missing.append(f"{class_name or module_name}.{name}")
                continue
            self._saved.append((owner, name, original))
            setattr(owner, name, self._timed(original, label))
        return self

    def __exit__(self, *_: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)

    def report(self, requests: int, total: float) -> None:
        print(f"    {1000 * total / requests:6.2f} ms  the whole request (process CPU)")
        for _, _, _, label in STEP_TARGETS:
            if label in self.calls:
                print(
                    f"    {1000 * self.cpu[label] / requests:6.2f} ms  {label}"
                    f" ({self.calls[label] / requests:.2f} calls)"
                )
        top = sum(self.cpu[label] for label in ("authenticate", STEP_TARGETS[1][3]))
        top += self.cpu[STEP_TARGETS[2][3]]
        print(
            f"    {1000 * (total - top) / requests:6.2f} ms  the rest: FastAPI, middleware,"
            " validation, serialization"
        )
        if self.missing:
            print(f"    (not found, not timed: {', '.join(self.missing)})")


STEPS = [
    ("solve_dependencies", "fastapi/dependencies/utils.py", "fastapi dependencies (auth, body)"),
    ("create", "aibos/modules/ledger/service/entries.py", "EntryService.create"),
    ("take", "aibos/platform/idempotency.py", "  Claim.take (the key)"),
    ("_create", "aibos/modules/ledger/service/entries.py", "  _create (checks and writes)"),
    ("_prepare", "aibos/modules/ledger/service/entries.py", "    _prepare (accounts by code)"),
    (
        "_book",
        "aibos/modules/ledger/service/entries.py",
        "    _book (counter, mark posted, balances)",
    ),
    ("_finish", "aibos/modules/ledger/service/entries.py", "  _finish (read back, record)"),
    ("_publics", "aibos/modules/ledger/service/entries.py", "    _publics (3 SELECTs, models)"),
    ("record", "aibos/platform/idempotency.py", "    Claim.record (the stored answer)"),
    ("answer_once", "aibos/platform/idempotency.py", "answer_once (the work, the answer as JSON)"),
]


def report_profile(profile: cProfile.Profile, requests: int) -> None:
    stats: dict[tuple[str, int, str], Any] = getattr(pstats.Stats(profile), "stats")  # noqa: B009
    total = sum(entry[2] for entry in stats.values())
    own: defaultdict[str, float] = defaultdict(float)
    for (filename, _, _), entry in stats.items():
        own[library(filename)] += entry[2]
    print(
        f"  cProfile of {requests} postings: {1000 * total / requests:.2f} ms profiled CPU per"
        " entry (profiling inflates it)\n  own time by library:"
    )
    for name, seconds in sorted(own.items(), key=lambda item: -item[1])[:10]:
        print(f"    {100 * seconds / total:5.1f}%  {name}")
    print("  steps (cumulative, % of profiled time):")
    for function, filename, label in STEPS:
        cumulative = sum(
            entry[3]
            for (name_file, _, name), entry in stats.items()
            if name == function and name_file.endswith(filename)
        )
        print(f"    {100 * cumulative / total:5.1f}%  {label}")
    print("  heaviest functions by own time:")
    for (filename, line, name), entry in sorted(stats.items(), key=lambda item: -item[1][2])[:15]:
        where = "/".join(Path(filename).parts[-2:]) if filename.startswith("/") else filename
        print(f"    {100 * entry[2] / total:5.1f}%  {name} ({where}:{line}) {entry[1]} calls")


async def cpu_per_entry(
    app: App, count: int, concurrency: int, *, key: bool
) -> tuple[float, float]:
    """(CPU ms per entry, entries/s) of the best of BATCHES batches."""
    best_cpu, best_rate = float("inf"), 0.0
    for _ in range(BATCHES):
        cpu, wall = time.process_time(), time.perf_counter()
        await post_entries(app, count, concurrency, key=key)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / count * 1000)
        best_rate = max(best_rate, count / (time.perf_counter() - wall))
    return best_cpu, best_rate


async def profile_posting(
    app: App, engine: Any, count: int, concurrency: int, dump: str | None
) -> None:
    await post_entries(app, 200, concurrency)  # warm up pools, statement caches
    print(f"POST {LEDGER}/entries, in-process (no HTTP), best of {BATCHES} batches of {count}:")
    for label, conc, key in (
        (f"{concurrency} at a time, with Idempotency-Key", concurrency, True),
        (f"{concurrency} at a time, without the key", concurrency, False),
        ("one at a time, with Idempotency-Key", 1, True),
    ):
        cpu, per_second = await cpu_per_entry(app, count, conc, key=key)
        print(f"  {label:<44} CPU {cpu:6.2f} ms per entry, {per_second:5.0f} entries/s")
    print(f"  CPU by step, one posting at a time ({count} postings, inclusive of sub-steps):")
    with StepCpu() as steps:
        began = time.process_time()
        await post_entries(app, count, 1)
        steps.report(count, time.process_time() - began)
    for conc in (1, concurrency):
        print(f"  SQL of a posting, {conc} at a time ({count} postings):")
        with StatementTimes(engine) as times:
            began = time.perf_counter()
            await post_entries(app, count, conc)
            times.report(count, time.perf_counter() - began)
    profile = cProfile.Profile()
    profile.enable()
    await post_entries(app, count, concurrency)
    profile.disable()
    report_profile(profile, count)
    if dump:
        profile.dump_stats(dump)
        print(f"  profile saved to {dump} (python -m pstats {dump})")


async def profile_reads(app: App, engine: Any, cash_id: str, samples: int) -> None:
    ledger = f"{LEDGER}/accounts/{cash_id}/ledger"
    page = await app.json("GET", f"{ledger}?start=2026-11-01&size=100", b"", 200)
    cursor = page["next_cursor"]
    reads = [
        ("trial balance, year", f"{LEDGER}/reports/trial-balance?end=2026-12-31"),
        ("trial balance, June", f"{LEDGER}/reports/trial-balance?start=2026-06-01&end=2026-06-30"),
        ("financial position", f"{LEDGER}/reports/financial-position?as_of=2026-12-31"),
        ("ledger page, first", f"{ledger}?size=100"),
        ("ledger page, deep (cursor)", f"{ledger}?size=100&cursor={cursor}"),
        (
            "ledger page, deep (start + cursor)",
            f"{ledger}?size=100&start=2026-11-01&cursor={cursor}",
        ),
    ]
    for label, path in reads:
        for _ in range(3):
            await app.call("GET", path)
        print(f"  GET {label}: {samples} requests one at a time")
        with StatementTimes(engine) as times:
            began, cpu = time.perf_counter(), time.process_time()
            for _ in range(samples):
                status, body = await app.call("GET", path)
                if status != 200:
                    raise BenchError(f"{label}: {status} {body[:300]!r}")
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            print(f"    process CPU {1000 * used / samples:.2f} ms per request")
            times.report(samples, wall, width=220)


OVERHEAD_CALLS = 500


async def statement_overhead(api: Any) -> None:
    """CPU of one small statement through SQLAlchemy Core (as the services send them) and
    straight through asyncpg on the same connection; and of a whole transaction of one
    statement taken from the engine's pool (checkout, pre-ping, BEGIN, COMMIT, return)."""
    from sqlalchemy import select

    from aibos.modules.ledger.tables import accounts

    engine = api.state.container.engine()
    query = select(accounts.c.id).where(accounts.c.code == CODES[0])
    raw_sql = "SELECT id FROM ledger_account WHERE code = $1"

    async def timed(work: Callable[[], Awaitable[Any]]) -> float:
        for _ in range(50):
            await work()
        began = time.process_time()
        for _ in range(OVERHEAD_CALLS):
            await work()
        return (time.process_time() - began) / OVERHEAD_CALLS * 1e6

    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        core = await timed(lambda: connection.execute(query))
        bare = await timed(lambda: driver.fetch(raw_sql, CODES[0]))

    async def one_transaction() -> None:
        async with engine.begin() as connection:
            await connection.execute(query)

    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection

        async def bare_transaction() -> None:
            async with driver.transaction():
                await driver.fetch(raw_sql, CODES[0])

        bare_whole = await timed(bare_transaction)
    whole = await timed(one_transaction)
    print(
        f"  CPU of a small query (account by code), {OVERHEAD_CALLS} times: Core {core:.0f} us,"
        f" asyncpg {bare:.0f} us; a transaction of it: engine.begin() from the pool"
        f" {whole:.0f} us, asyncpg transaction on a held connection {bare_whole:.0f} us"
    )


DEEP_PAGE = """
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT ledger_line.*, ledger_entry.number, ledger_entry.description, ledger_entry.sequence
  FROM ledger_line JOIN ledger_entry ON ledger_entry.id = ledger_line.entry_id
 WHERE ledger_line.account_id = $1 AND ledger_line.posted IS true
   AND (ledger_line.entry_date, ledger_entry.sequence, ledger_line.line_number) > ($2, $3, $4)
   {bound}
 ORDER BY ledger_line.entry_date, ledger_entry.sequence, ledger_line.line_number LIMIT 101
"""


async def explain_deep_page(dsn: str, cash_id: str, cursor: str) -> None:
    """The deep page's query as ReportService.ledger builds it from a cursor alone, and with the
    bound the cursor implies (entry_date >= the cursor's day) written out for the planner."""
    day, sequence, line_number = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    position = (uuid.UUID(cash_id), date.fromisoformat(day), int(sequence), int(line_number))
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for label, bound in (
            ("as the API sends it (cursor only)", ""),
            ("with AND ledger_line.entry_date >= the cursor's day", "AND entry_date >= $2"),
        ):
            bound_sql = bound.replace("entry_date", "ledger_line.entry_date")
            plan = await connection.fetch(DEEP_PAGE.format(bound=bound_sql), *position)
            print(f"  EXPLAIN ANALYZE of the deep page query, {label}:")
            for row in plan:
                print(f"    {row[0]}")
    finally:
        await connection.close()


async def measure(options: argparse.Namespace, dsn: str, email: str) -> None:
    from aibos.platform.app import create_app
    from aibos.platform.settings import Settings

    api: Any = create_app(Settings())  # the environment set in main_async
    async with api.router.lifespan_context(api):
        app = App(api)
        login = {"email": email, "password": PASSWORD}
        app.token = (await app.json("POST", "/api/v1/auth/login", login, 200))["access_token"]
        await app.json("POST", f"{LEDGER}/fiscal-years", {"start_date": "2026-01-01"}, 201)
        chart = "code,name,type,mfrs_class,parent_code,currency\n" + "".join(
            f"{code},Account {code},asset,current_asset,,\n" for code in CODES
        )
        await app.json("POST", f"{LEDGER}/accounts/import", chart.encode(), 201)
        engine = api.state.container.engine().sync_engine
        await statement_overhead(api)
        await profile_posting(app, engine, options.requests, options.concurrency, options.dump)
        if options.seed_entries:
            print(f"\nreads at {options.seed_entries} more posted entries (seeded with COPY):")
            await seed(dsn, options.seed_entries, cash_code=CODES[0], say=lambda _: None)
            accounts = await app.json("GET", f"{LEDGER}/accounts?q={CODES[0]}", b"", 200)
            cash_id = next(row["id"] for row in accounts["data"] if row["code"] == CODES[0])
            await profile_reads(app, engine, cash_id, options.read_samples)
            ledger = f"{LEDGER}/accounts/{cash_id}/ledger?start=2026-11-01&size=100"
            cursor = (await app.json("GET", ledger, b"", 200))["next_cursor"]
            await explain_deep_page(dsn, cash_id, cursor)


async def main_async(options: argparse.Namespace) -> int:
    run_id = secrets.token_hex(4)
    database = f"aibos_bench_ledger_{run_id}_prof"
    namespace = f"aibos-bench-ledger-{run_id}"
    dsn = f"postgresql://postgres@{HOST}:5432/{database}"
    email = f"bench-ledger-{run_id}@example.com"
    settings = {
        "AIBOS_ENV": "production",
        "AIBOS_DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://"),
        "AIBOS_REDIS_URL": f"redis://{HOST}:6379/0",
        "AIBOS_SECRET_KEY": secrets.token_urlsafe(48),
        # Production wants an SMTP server; what a run mails goes nowhere.
        "AIBOS_SMTP_HOST": "127.0.0.1",
        "AIBOS_CACHE_NAMESPACE": namespace,
        "AIBOS_LOG_LEVEL": "WARNING",
    }
    admin = await asyncpg.connect(f"postgresql://postgres@{HOST}:5432/postgres", timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    try:
        with tempfile.TemporaryDirectory(prefix="aibos-bench-ledger-") as scratch:
            env, workdir = child_env(settings), Path(scratch)
            await run_checked(["-m", "aibos", "migrate"], env, workdir)
            command = ["-m", "aibos", "create-admin", "--email", email, "--password", PASSWORD]
            await run_checked(command, env, workdir)
        for key in [key for key in os.environ if key.startswith("AIBOS_")]:
            del os.environ[key]
        os.environ.update(settings)
        await measure(options, dsn, email)
    except BenchError as error:
        print(f"profile failed: {error}", flush=True)
        return 2
    finally:
        admin = await asyncpg.connect(f"postgresql://postgres@{HOST}:5432/postgres", timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        await delete_redis_keys(settings["AIBOS_REDIS_URL"], namespace)
        print(f"\ncleanup: database {database} dropped, Redis keys of {namespace} deleted")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile ledger posting and reads in-process.")
    parser.add_argument("--requests", type=int, default=300, help="postings per batch")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seed-entries", type=int, default=0, help="0: postings only")
    parser.add_argument("--read-samples", type=int, default=20)
    parser.add_argument("--dump", default=None, help="save the postings' cProfile to this file")
    options = parser.parse_args()
    if not 10 <= options.requests <= 5000 or not 1 <= options.concurrency <= 200:
        parser.error("--requests must be in [10, 5000] and --concurrency in [1, 200]")
    if not 0 <= options.seed_entries <= 2_000_000 or not 1 <= options.read_samples <= 500:
        parser.error("--seed-entries must be in [0, 2000000] and --read-samples in [1, 500]")
    sys.exit(uvloop.run(main_async(options)))


if __name__ == "__main__":
    main()
