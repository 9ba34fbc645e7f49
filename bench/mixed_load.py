"""Mixed load on the ledger: many paced users reading (and now and then posting) while a few
clients post without pause. Raw asyncio streams, HTTP/1.1 keep-alive, uvloop, 127.0.0.1 only.

    uv run python -m bench.mixed_load --port 8000 --header "Authorization: Bearer ..." \\
        --users 1000 --posters 20 --duration 30

bench/mixed.py starts it in a process of its own and reads the one JSON object it prints.

- `--users` users, each on a keep-alive connection of its own, send one request every
  `--min-interval` to `--max-interval` seconds (drawn at random; a late answer makes the next
  request go at once): GET /users/me and a page of the chart of accounts in turn, and, one
  time in `--post-every`, a posting (`"post": true`, a fresh Idempotency-Key);
- `--posters` clients post balanced two-line entries without pause (closed loop), as
  bench/ledger_load.py does: their entries/s is the posting rate the ledger reaches.

Bounded in time (`--warmup` + `--duration`, then at most GRACE_SECONDS for answers in flight)
and in count (`--max-requests`). Requests that start during the warm-up are sent but not
counted. Per route: answers, answers/s, p50, p99, max and status counts; and the CPU (in cores)
used by this client, each `--watch` group and the whole machine over the counted window.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvloop

from bench import ledger_load
from bench.load import (
    ALLOWED_HOST,
    CALL_ERRORS,
    Connection,
    build_request,
    checked_watch,
    percentile,
    print_result,
)

GRACE_SECONDS = 10.0
ME = "/api/v1/users/me"
ACCOUNTS = "/api/v1/ledger/accounts"
ENTRIES = "/api/v1/ledger/entries"
PAGE_SIZE = 20
ROUTES = ("users/me", "accounts page", "posting (users)", "posting (posters)")


@dataclass
class Route:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Plan:
    port: int
    headers: tuple[str, ...]
    users: int
    posters: int
    min_interval: float
    max_interval: float
    post_every: int
    pages: int
    warmup: float
    duration: float
    max_requests: int
    postings: ledger_load.Plan
    watch: tuple[tuple[str, str], ...] = ()


@dataclass
class Run:
    plan: Plan
    start: float
    routes: dict[str, Route] = field(default_factory=lambda: {name: Route() for name in ROUTES})
    sent: int = 0

    @property
    def measure_from(self) -> float:
        return self.start + self.plan.warmup

    @property
    def stop_at(self) -> float:
        return self.measure_from + self.plan.duration

    def going(self) -> bool:
        return time.perf_counter() < self.stop_at and self.sent < self.plan.max_requests

    async def call(self, connection: Connection, route: str, request: bytes) -> None:
        """Send one request and count its answer, if it began in the counted window."""
        self.sent += 1
        began = time.perf_counter()
        counted = began >= self.measure_from
        try:
            status = await connection.call(request)
        except CALL_ERRORS as error:
            if counted:
                self.routes[route].errors[type(error).__name__] += 1
            await asyncio.sleep(0.01)  # a refused or reset connection: do not spin
            return
        if counted:
            self.routes[route].latencies.append(time.perf_counter() - began)
            self.routes[route].statuses[status] += 1


def read_request(plan: Plan, turn: int, rng: random.Random) -> tuple[str, bytes]:
    if turn % 2 == 0:
        return "users/me", build_request("GET", ME, plan.port, list(plan.headers), b"")
    path = f"{ACCOUNTS}?page={rng.randint(1, plan.pages)}&size={PAGE_SIZE}"
    return "accounts page", build_request("GET", path, plan.port, list(plan.headers), b"")


async def user(run: Run, number: int) -> None:
    plan = run.plan
    rng = random.Random(number)
    connection = Connection(plan.port)
    due = run.start + rng.uniform(0, plan.max_interval)  # users start spread out
    turn = number
    try:
        while True:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if not run.going():
                return
            if rng.randrange(plan.post_every) == 0:
                route, request = "posting (users)", ledger_load.next_request(plan.postings, rng)
            else:
                route, request = read_request(plan, turn, rng)
                turn += 1
            await run.call(connection, route, request)
            due += rng.uniform(plan.min_interval, plan.max_interval)
    finally:
        connection.close()


async def poster(run: Run, number: int) -> None:
    rng = random.Random(-1 - number)
    connection = Connection(run.plan.port)
    try:
        while run.going():
            request = ledger_load.next_request(run.plan.postings, rng)
            await run.call(connection, "posting (posters)", request)
    finally:
        connection.close()


def figures(route: Route, duration: float, success: int) -> dict[str, Any]:
    ordered = sorted(route.latencies)
    return {
        "answers": len(ordered),
        "ok": route.statuses.get(success, 0),
        "ok_per_second": route.statuses.get(success, 0) / duration,
        "failed": {str(code): n for code, n in sorted(route.statuses.items()) if code != success}
        | dict(route.errors),
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
    }


async def run(plan: Plan) -> dict[str, Any]:
    state = Run(plan, time.perf_counter())
    window = asyncio.create_task(ledger_load.measure_window(plan.postings, state.start))
    clients = [user(state, n) for n in range(plan.users)]
    clients += [poster(state, n) for n in range(plan.posters)]
    timed_out = False
    try:
        async with asyncio.timeout(plan.warmup + plan.duration + GRACE_SECONDS):
            await asyncio.gather(*clients)
    except TimeoutError:
        timed_out = True
    cpu = await window
    routes = {
        name: figures(route, plan.duration, 201 if name.startswith("posting") else 200)
        for name, route in state.routes.items()
    }
    postings = Route(
        latencies=[t for name in ROUTES[2:] for t in state.routes[name].latencies],
        statuses=sum((state.routes[name].statuses for name in ROUTES[2:]), Counter()),
    )
    return {
        "routes": routes,
        "postings": figures(postings, plan.duration, 201),
        "sent": state.sent,
        "timed_out": timed_out,
        **cpu,
    }


def parse_args(argv: list[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default=ALLOWED_HOST, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--posters", type=int, default=20)
    parser.add_argument("--min-interval", type=float, default=1.0, help="seconds")
    parser.add_argument("--max-interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--post-every", type=int, default=20, help="a user posts 1 time in N")
    parser.add_argument("--accounts", type=int, default=100, help="accounts in the chart")
    parser.add_argument("--first-code", type=int, default=1000)
    parser.add_argument("--date", default="2026-06-15", help="the entries' date")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds sent but not counted")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds counted")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--watch", action="append", default=[], help="LABEL=PID or cmd:TEXT")
    args = parser.parse_args(argv)
    watch = checked_watch(parser, args)
    if not 0 <= args.users <= 2000 or not 0 <= args.posters <= 200:
        parser.error("--users must be in [0, 2000] and --posters in [0, 200]")
    if not 0 < args.min_interval <= args.max_interval <= 60 or args.post_every < 1:
        parser.error("need 0 < --min-interval <= --max-interval <= 60 and --post-every >= 1")
    postings = ledger_load.Plan(
        port=args.port,
        path=ENTRIES,
        headers=tuple(args.header),
        mode="spread",
        codes=tuple(str(args.first_code + n) for n in range(args.accounts)),
        day=args.date,
        idempotency=True,
        connections=1,
        warmup=args.warmup,
        duration=args.duration,
        max_requests=args.max_requests,
        watch=watch,
    )
    return Plan(
        port=args.port,
        headers=tuple(args.header),
        users=args.users,
        posters=args.posters,
        min_interval=args.min_interval,
        max_interval=args.max_interval,
        post_every=args.post_every,
        pages=max(1, -(-args.accounts // PAGE_SIZE)),
        warmup=args.warmup,
        duration=args.duration,
        max_requests=args.max_requests,
        postings=postings,
        watch=watch,
    )


def main(argv: list[str] | None = None) -> None:
    print_result(uvloop.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
