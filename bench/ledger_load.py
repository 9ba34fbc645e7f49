"""A POST load generator for ledger entries: raw asyncio streams, HTTP/1.1 keep-alive, uvloop.

    uv run python -m bench.ledger_load --port 8000 --path /api/v1/ledger/entries \\
        --header "Authorization: Bearer ..." --connections 50 --duration 10

bench/load.py sends one fixed request over and over; a journal entry needs a body of its own
and, as a real client sends it, a fresh `Idempotency-Key` on every request. This client builds
each request as it goes: a balanced two-line entry (one debit, one credit, the same amount below
the approval threshold) dated `--date`, posted at once (`"post": true`), as JSON.

- `--mode spread`: both accounts drawn at random (distinct) from the `--accounts` codes that
  start at `--first-code` (1000 .. 1099 by default);
- `--mode hot`: every entry debits `--first-code` (the cash account) and credits one of the
  others at random.

Closed loop: each of `--connections` connections sends its next request as soon as the
previous answer is in. Bounded in time (`--warmup` + `--duration`, then at most GRACE_SECONDS
for answers in flight) and in count (`--max-requests`). Requests that start during the warm-up
are sent but not counted. Prints one JSON object: answers, entries/s (201 answers per second),
latency percentiles, status counts, and the CPU (in cores) used over the counted window by this
client, by each `--watch` group of processes and by the whole machine, as bench/load.py does.
Only 127.0.0.1 is ever loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvloop

from bench.load import (
    ALLOWED_HOST,
    CALL_ERRORS,
    Connection,
    Snapshot,
    build_request,
    checked_watch,
    percentile,
    print_result,
)

GRACE_SECONDS = 10.0
MAX_MINOR = 999_999  # 9999.99: below the approval threshold of 10000.00, so entries post at once


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0


@dataclass(frozen=True)
class Plan:
    port: int
    path: str
    headers: tuple[str, ...]
    mode: str
    codes: tuple[str, ...]
    day: str
    idempotency: bool
    connections: int
    warmup: float
    duration: float
    max_requests: int
    watch: tuple[tuple[str, str], ...] = ()


def entry_body(plan: Plan, rng: random.Random) -> bytes:
    """A balanced two-line entry, posted at once."""
    if plan.mode == "hot":
        debit, credit = plan.codes[0], rng.choice(plan.codes[1:])
    else:
        debit, credit = rng.sample(plan.codes, 2)
    minor = rng.randint(100, MAX_MINOR)
    amount = f"{minor // 100}.{minor % 100:02d}"
    return (
        f'{{"entry_date":"{plan.day}","description":"bench {plan.mode}","post":true,"lines":['
        f'{{"account_code":"{debit}","side":"debit","amount":"{amount}"}},'
        f'{{"account_code":"{credit}","side":"credit","amount":"{amount}"}}]}}'
    ).encode()


def next_request(plan: Plan, rng: random.Random) -> bytes:
    headers = [*plan.headers, "Content-Type: application/json"]
    if plan.idempotency:
        headers.append(f"Idempotency-Key: {uuid.uuid4()}")
    return build_request("POST", plan.path, plan.port, headers, entry_body(plan, rng))


async def closed_loop(plan: Plan, stats: Stats, start: float) -> None:
    measure_from = start + plan.warmup
    stop_at = measure_from + plan.duration

    async def worker(number: int) -> None:
        rng = random.Random(number)
        connection = Connection(plan.port)
        try:
            while time.perf_counter() < stop_at and stats.sent < plan.max_requests:
                stats.sent += 1
                request = next_request(plan, rng)
                began = time.perf_counter()
                try:
                    status = await connection.call(request)
                except CALL_ERRORS as error:
                    if began >= measure_from:
                        stats.errors[type(error).__name__] += 1
                    await asyncio.sleep(0.01)  # a refused or reset connection: do not spin
                    continue
                if began >= measure_from:
                    stats.latencies.append(time.perf_counter() - began)
                    stats.statuses[status] += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker(number) for number in range(plan.connections)))


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used by the processes alive at both ends of the window."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


async def measure_window(plan: Plan, start: float) -> dict[str, Any]:
    await asyncio.sleep(max(0.0, start + plan.warmup - time.perf_counter()))
    before = Snapshot.take(plan.watch)
    await asyncio.sleep(max(0.0, start + plan.warmup + plan.duration - time.perf_counter()))
    after = Snapshot.take(plan.watch)
    wall = after.at - before.at
    return {
        "client_cores": (after.own - before.own) / wall,
        "machine_busy_cores": (after.machine - before.machine) / wall,
        "watched_cores": {
            label: _used(before.watched[label], after.watched[label]) / wall
            for label, _ in plan.watch
        },
    }


async def run(plan: Plan) -> dict[str, Any]:
    stats = Stats()
    start = time.perf_counter()
    window = asyncio.create_task(measure_window(plan, start))
    timed_out = False
    try:
        async with asyncio.timeout(plan.warmup + plan.duration + GRACE_SECONDS):
            await closed_loop(plan, stats, start)
    except TimeoutError:
        timed_out = True
    cpu = await window
    ordered = sorted(stats.latencies)
    created = stats.statuses.get(201, 0)
    return {
        "requests": len(ordered),
        "sent": stats.sent,
        "created": created,
        "entries_per_second": created / plan.duration,
        "requests_per_second": len(ordered) / plan.duration,
        "statuses": {str(code): n for code, n in sorted(stats.statuses.items())},
        "non_201": {str(code): n for code, n in sorted(stats.statuses.items()) if code != 201},
        "errors": dict(stats.errors),
        "timed_out": timed_out,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p90_ms": percentile(ordered, 0.90) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
        **cpu,
    }


def parse_args(argv: list[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default=ALLOWED_HOST, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--mode", choices=("spread", "hot"), default="spread")
    parser.add_argument("--first-code", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--date", default="2026-06-15", help="the entries' date")
    parser.add_argument(
        "--no-idempotency-key", action="store_true", help="send no Idempotency-Key header"
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds sent but not counted")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument(
        "--watch",
        action="append",
        default=[],
        help="LABEL=PID or LABEL=cmd:FRAGMENT: report the CPU (cores) these processes used",
    )
    args = parser.parse_args(argv)
    watch = checked_watch(parser, args)
    if not 1 <= args.connections <= 1000:
        parser.error("--connections must be in [1, 1000]")
    if not 2 <= args.accounts <= 10_000:
        parser.error("--accounts must be in [2, 10000]")
    return Plan(
        port=args.port,
        path=args.path,
        headers=tuple(args.header),
        mode=args.mode,
        codes=tuple(str(args.first_code + n) for n in range(args.accounts)),
        day=args.date,
        idempotency=not args.no_idempotency_key,
        connections=args.connections,
        warmup=args.warmup,
        duration=args.duration,
        max_requests=args.max_requests,
        watch=watch,
    )


def main(argv: list[str] | None = None) -> None:
    print_result(uvloop.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
