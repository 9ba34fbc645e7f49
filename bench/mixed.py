"""Mixed load on the ledger: postings while 1,000 users read, against postings alone.

    uv run python -m bench.mixed            # about 90 s; --help for users, posters, durations

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379.
Sets up as bench/ledger.py does (a fresh database `aibos_bench_mixed_<id>`, migrated, an
administrator, the real API with `aibos serve`, production settings, one worker, fiscal year
2026 and 100 accounts imported through the API), then runs bench/mixed_load.py in a process
of its own three times:

1. alone: `--posters` clients post two-line entries without pause, nobody else;
2. mixed: the same posters while `--users` keep-alive users each send a request every 1-2 s
   (GET /users/me and a page of the chart in turn, and one time in `--post-every` a posting);
   meanwhile PostgreSQL's sessions of the run are sampled every SAMPLE_SECONDS: how many are
   idle in a transaction (waiting on the server) and how many wait for a lock;
3. alone again, so that a drift in the machine's speed falls on both sides.

Prints per route answers/s, p50, p99, max and failures, the posters' entries/s alone (the mean
of 1 and 3) and mixed. Goals: posters' entries/s mixed >= 0.5 x alone; p99 of every posting
in the mixed run < 1 s; no answer other than 200/201. The books are checked at the end; the
server is stopped, the database dropped and the Redis keys deleted, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from bench.ledger import (
    ACCOUNT_COUNT,
    FIRST_CODE,
    POSTING_DATE,
    admin_execute,
    books_env,
    check_books,
    machine_load,
    start_books_api,
    verdict,
)
from bench.run import (
    HOST,
    BenchError,
    Server,
    add_server_options,
    checked_api_env,
    delete_redis_keys,
    failed_with,
    run_client,
    say,
    say_summary,
    stop_servers,
)

SAMPLE_SECONDS = 0.5
P99_GOAL_MS = 1000.0


@dataclass(frozen=True)
class Options:
    users: int
    posters: int
    post_every: int
    duration: float
    alone_duration: float
    warmup: float
    api_env: dict[str, str]
    pg_port: int
    redis_url: str

    def admin_dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/{database}"


@dataclass(frozen=True)
class Target:
    api: Server
    token: str
    database: str


async def load(options: Options, target: Target, *, users: int, duration: float) -> dict[str, Any]:
    args = ["-m", "bench.mixed_load", "--port", str(target.api.port)]
    args += ["--header", f"Authorization: Bearer {target.token}"]
    args += ["--users", str(users), "--posters", str(options.posters)]
    args += ["--post-every", str(options.post_every), "--date", POSTING_DATE]
    args += ["--accounts", str(ACCOUNT_COUNT), "--first-code", str(FIRST_CODE)]
    args += ["--warmup", str(options.warmup), "--duration", str(duration)]
    args += ["--watch", f"api={target.api.pid}", "--watch", f"postgres=cmd:{target.database} "]
    return await run_client(args, limit=options.warmup + duration + 30)


async def sample_sessions(dsn: str, database: str, stop: asyncio.Event) -> dict[str, float]:
    """The run's PostgreSQL sessions, sampled until `stop`: mean and most idle in a transaction
    and waiting for a lock."""
    idle, waiting = [], []
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        while not stop.is_set():
            row = await connection.fetchrow(
                "SELECT count(*) FILTER (WHERE state = 'idle in transaction') AS idle,"
                " count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting"
                " FROM pg_stat_activity WHERE datname = $1",
                database,
            )
            idle.append(row["idle"])
            waiting.append(row["waiting"])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
    finally:
        await connection.close()
    return {
        "idle_mean": statistics.mean(idle or [0]),
        "idle_max": max(idle or [0]),
        "lock_mean": statistics.mean(waiting or [0]),
        "lock_max": max(waiting or [0]),
    }


async def mixed_run(options: Options, target: Target) -> tuple[dict[str, Any], dict[str, float]]:
    stop = asyncio.Event()
    sampling = asyncio.create_task(sample_sessions(options.admin_dsn(), target.database, stop))
    try:
        result = await load(options, target, users=options.users, duration=options.duration)
    finally:
        stop.set()
    return result, await sampling


def logged_errors(server: Server) -> str:
    """The errors in the server's log, counted by the last line of their exception."""
    found: Counter[str] = Counter()
    for line in server.log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") == "error":
            found[str(record.get("exception") or record.get("event")).splitlines()[-1]] += 1
    return "\n".join(f"  logged {n} x {error[:300]}" for error, n in found.most_common(5))


def failures(result: dict[str, Any]) -> int:
    routes = result["routes"].values()
    return sum(sum(route["failed"].values()) for route in routes) + int(result["timed_out"])


def route_line(name: str, route: dict[str, Any]) -> str:
    failed = ", ".join(f"{code}: {n}" for code, n in route["failed"].items()) or "none"
    return (
        f"  {name:<18} {route['ok_per_second']:7.1f}/s p50 {route['p50_ms']:7.1f} ms"
        f" p99 {route['p99_ms']:7.1f} ms max {route['max_ms']:7.1f} ms | failed: {failed}"
    )


def cores(result: dict[str, Any]) -> str:
    watched = result["watched_cores"]
    return (
        f"  cores: api {watched['api']:.2f}, postgres {watched['postgres']:.2f}, load client"
        f" {result['client_cores']:.2f}, machine busy {result['machine_busy_cores']:.2f}"
        f" of {os.cpu_count()}"
    )


def report(label: str, result: dict[str, Any]) -> None:
    say(f"  {label}: {failures(result)} failed answers")
    for name, route in result["routes"].items():
        if route["answers"]:
            say(route_line(name, route))
    say(cores(result))


def summary(options: Options, alone: list[dict[str, Any]], mixed: dict[str, Any]) -> list[str]:
    rates = [r["routes"]["posting (posters)"]["ok_per_second"] for r in alone]
    rate_alone = statistics.mean(rates)
    posters = mixed["routes"]["posting (posters)"]
    ratio = posters["ok_per_second"] / max(rate_alone, 1e-9)
    postings = mixed["postings"]
    bad = failures(mixed) + sum(failures(r) for r in alone)
    reads = sum(mixed["routes"][name]["ok_per_second"] for name in ("users/me", "accounts page"))
    return [
        f"alone     {options.posters} posters: {rate_alone:.1f} entries/s (mean of"
        f" {' and '.join(f'{rate:.1f}' for rate in rates)}),"
        f" p99 {max(r['postings']['p99_ms'] for r in alone):.0f} ms",
        f"mixed     {options.users} users ({reads:.0f} reads/s) + {options.posters} posters:"
        f" posters {posters['ok_per_second']:.1f} entries/s, all postings"
        f" {postings['ok_per_second']:.1f}/s p50 {postings['p50_ms']:.0f} ms"
        f" p99 {postings['p99_ms']:.0f} ms",
        f"goals     mixed / alone {ratio:.2f} (>= 0.5: {verdict(ratio >= 0.5)}) | posting p99"
        f" {postings['p99_ms']:.0f} ms (< {P99_GOAL_MS:.0f} ms:"
        f" {verdict(postings['p99_ms'] < P99_GOAL_MS)}) | failed answers {bad}"
        f" (0: {verdict(bad == 0)})",
    ]


async def measure(options: Options, target: Target) -> list[str]:
    alone: list[dict[str, Any]] = []
    for step, name in enumerate(("alone", "mixed", "alone again"), 1):
        say(f"\n[{step}/3] {name}")
        if name == "mixed":
            mixed, sessions = await mixed_run(options, target)
            report(name, mixed)
            say(
                f"  PostgreSQL sessions idle in a transaction: mean {sessions['idle_mean']:.1f},"
                f" most {sessions['idle_max']:.0f}; waiting for a lock: mean"
                f" {sessions['lock_mean']:.1f}, most {sessions['lock_max']:.0f}"
            )
        else:
            result = await load(options, target, users=0, duration=options.alone_duration)
            report(name, result)
            alone.append(result)
    return summary(options, alone, mixed)


async def main_async(options: Options) -> int:
    run_id = secrets.token_hex(4)
    database = f"aibos_bench_mixed_{run_id}"
    namespace = f"aibos-bench-mixed-{run_id}"
    email = f"bench-mixed-{run_id}@example.com"
    env = books_env(options, database, options.redis_url, namespace)
    idle_load = await machine_load()
    began = time.perf_counter()
    say(
        f"bench mixed: database {database}, {os.cpu_count()} cores; API: one worker,"
        " AIBOS_ENV=production"
        + "".join(f" {key}={value}" for key, value in options.api_env.items())
        + f"; load client: bench/mixed_load.py in its own process\n  before the run, other"
        f" processes kept {idle_load:.2f} of {os.cpu_count()} cores busy"
    )
    servers: list[Server] = []
    created = False
    lines: list[str] = []
    consistent = False
    with tempfile.TemporaryDirectory(prefix="aibos-bench-mixed-") as scratch:
        workdir = Path(scratch)
        try:
            await admin_execute(options, f'CREATE DATABASE "{database}"')
            created = True
            api, token, _ = await start_books_api(env, options.api_env, workdir, email, servers)
            lines = await measure(options, Target(api, token, database))
            say(logged_errors(api))
            books, text = await check_books(options, database, "books")
            lines.append(f"books     {text}")
            consistent = books.consistent
            if api.process.returncode is not None:
                raise BenchError(f"the API died:\n{api.log_tail()}")
        except BenchError as error:
            return failed_with(error, servers)
        finally:
            await stop_servers(servers)
            if created:
                await admin_execute(options, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            removed = await delete_redis_keys(options.redis_url, namespace)
            say(
                f"\ncleanup: server stopped, database {database} dropped, {removed} Redis keys"
                f" deleted; the run took {time.perf_counter() - began:.0f} s"
            )
    say_summary(lines)
    return 0 if consistent else 1


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Postings under mixed load, and alone.")
    parser.add_argument("--users", type=int, default=1000, help="paced keep-alive users")
    parser.add_argument("--posters", type=int, default=20, help="clients posting without pause")
    parser.add_argument("--post-every", type=int, default=20, help="a user posts 1 time in N")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of mixed load")
    parser.add_argument("--alone-duration", type=float, default=10.0, help="seconds, each")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per load")
    add_server_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60 or not 1 <= args.alone_duration <= 60:
        parser.error("--duration and --alone-duration must be in [1, 60]")
    if not 0 <= args.warmup <= 10:
        parser.error("--warmup must be in [0, 10]")
    api_env = checked_api_env(parser, args)
    return Options(
        users=args.users,
        posters=args.posters,
        post_every=args.post_every,
        duration=args.duration,
        alone_duration=args.alone_duration,
        warmup=args.warmup,
        api_env=api_env,
        pg_port=args.pg_port,
        redis_url=args.redis_url,
    )


def main(argv: list[str] | None = None) -> None:
    sys.exit(uvloop.run(main_async(parse_args(argv))))


if __name__ == "__main__":
    main()
