"""Where the time of GET /api/v1/users/me (and of a login) goes, measured in-process.

    uv run python -m bench.profile_me            # about a minute; --help for the options

Needs what bench/run.py needs (PostgreSQL and Redis on 127.0.0.1) and, like it, works in a fresh
database `aibos_bench_<random>` that it drops at the end. The API app (create_app, production
settings) and bench/reference.py's app run in this one process, called straight through ASGI,
`--concurrency` requests at a time, so only the apps' own work is counted:

1. CPU per request of each app: process CPU time over a batch, the best of several batches (the
   least disturbed by other work on the machine), and the ratio; uvicorn's HTTP parsing, the
   same for both apps, is left out;
2. PostgreSQL round trips per request (the asyncpg calls that go to the server, counted), and
   the new connections the API's pool opened meanwhile;
3. POST /api/v1/auth/login: the event loop's own CPU per login (thread time of the loop; the
   argon2 hash runs in other threads) and its round trips;
4. unless --no-profile, a cProfile of each (event loop thread only): own time by library, the
   steps of a users/me request, the heaviest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import event

from bench.run import (
    HOST,
    LOGIN,
    ME,
    NO_LOGIN_LIMIT,
    PASSWORD,
    REGISTER,
    BenchError,
    Options,
    child_env,
    create_database,
    delete_redis_keys,
    drop_database,
    run_checked,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
BATCHES = 8
LOGINS = 100
LOGIN_CONCURRENCY = 4

# A request's steps, by the function that does each, to read their cumulative time.
STEPS = {
    "solve_dependencies": "fastapi dependencies (token, principal, services)",
    "current_principal": "  current_principal (authenticate)",
    "read": "    KeyRing.read (PyJWT decode)",
    "_state": "    TokenAuthenticator._state (session, cached 1 s)",
    "run_in_threadpool": "  sync dependencies run in the thread pool",
    "me": "UserService.me (connect, SELECT, build UserPublic)",
    "start": "  AsyncConnection.start (pool checkout, pre-ping)",
    "_async_ping": "    pre-ping (BEGIN; SELECT ;; ROLLBACK)",
    "_start_transaction": "  BEGIN",
    "_prepare_and_execute": "  SELECT (prepared statement)",
    "_call_and_discard": "  ROLLBACK (ends the read's transaction)",
    "serialize_response": "serialize_response (pydantic -> JSON)",
}
STEP_FILES = {
    "solve_dependencies": "fastapi/dependencies/utils.py",
    "current_principal": "aibos/platform/security.py",
    "read": "aibos/modules/auth/tokens.py",
    "_state": "aibos/modules/auth/authenticator.py",
    "run_in_threadpool": "starlette/concurrency.py",
    "me": "aibos/modules/users/service.py",
    "start": "sqlalchemy/ext/asyncio/engine.py",
    "_async_ping": "sqlalchemy/dialects/postgresql/asyncpg.py",
    "_start_transaction": "sqlalchemy/dialects/postgresql/asyncpg.py",
    "_prepare_and_execute": "sqlalchemy/dialects/postgresql/asyncpg.py",
    "_call_and_discard": "sqlalchemy/dialects/postgresql/asyncpg.py",
    "serialize_response": "fastapi/routing.py",
}


@dataclass(frozen=True)
class Call:
    """One request, as ASGI will see it."""

    method: str
    path: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes = b""

    def scope(self) -> Scope:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", HOST.encode()), *self.headers],
            "client": (HOST, 50000),
            "server": (HOST, 8000),
            "state": {},
        }


def me_call(token: str) -> Call:
    return Call("GET", ME, ((b"authorization", f"Bearer {token}".encode()),))


def login_call(email: str) -> Call:
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    return Call("POST", LOGIN, ((b"content-type", b"application/json"),), body)


async def call(app: ASGIApp, request: Call) -> int:
    received = False
    status = 0

    async def receive() -> Message:
        nonlocal received
        if received:
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(request.scope(), receive, send)
    return status


async def drive(app: ASGIApp, request: Call, requests: int, concurrency: int) -> None:
    """`requests` calls, `concurrency` at a time; every answer must be 200."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = await call(app, request)
            if status != 200:
                raise BenchError(f"{request.path} answered {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def cpu_per_request(
    apps: dict[str, ASGIApp], request: Call, requests: int, concurrency: int
) -> dict[str, float]:
    """CPU microseconds per request of each app: its best batch, the apps taking turns so
    that both meet the same moments of quiet (or of other work) on the machine."""
    best = dict.fromkeys(apps, float("inf"))
    for _ in range(BATCHES):
        for name, app in apps.items():
            began = time.process_time()
            await drive(app, request, requests, concurrency)
            best[name] = min(best[name], (time.process_time() - began) / requests * 1e6)
    return best


def library(filename: str) -> str:
    if filename.startswith(("~", "<")):
        return "builtins (C)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    for own in ("aibos", "bench"):
        if own in parts:
            return own
    return "python stdlib (asyncio, ...)"


def report_profile(profile: cProfile.Profile, requests: int, what: str, steps: bool) -> None:
    # {(file, line, name): (primitive calls, calls, own time, cumulative time, callers)}
    stats: dict[tuple[str, int, str], Any] = getattr(pstats.Stats(profile), "stats")  # noqa: B009
    total = sum(entry[2] for entry in stats.values())
    own: defaultdict[str, float] = defaultdict(float)
    for (filename, _, _), entry in stats.items():
        own[library(filename)] += entry[2]
    print(f"\ncProfile of {what}, {requests} requests (profiling inflates absolute times):")
    print("  own time by library:")
    for name, seconds in sorted(own.items(), key=lambda item: -item[1])[:12]:
        print(f"    {100 * seconds / total:5.1f}%  {name}")
    if steps:
        report_steps(stats, total)
    print("  heaviest functions by own time:")
    heaviest = sorted(stats.items(), key=lambda item: -item[1][2])[:12]
    for (filename, line, name), entry in heaviest:
        where = "/".join(Path(filename).parts[-2:]) if filename.startswith("/") else filename
        print(f"    {100 * entry[2] / total:5.1f}%  {name} ({where}:{line})")


def report_steps(stats: dict[tuple[str, int, str], Any], total: float) -> None:
    print("  steps of a request (cumulative time while running, % of all profiled time):")
    for function, label in STEPS.items():
        cumulative = sum(
            entry[3]
            for (filename, _, name), entry in stats.items()
            if name == function and filename.endswith(STEP_FILES[function])
        )
        print(f"    {100 * cumulative / total:5.1f}%  {label}")


class RoundTrips:
    """Counts the asyncpg calls that each go to the server and back, while in use.

    Statements are prepared once per connection and then found in a cache, so after the
    warm-up a prepare costs no round trip; asyncpg's pool resets (one simple query) each
    connection it takes back: the reference's second round trip.
    """

    def __init__(self) -> None:
        self.count = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> RoundTrips:
        from asyncpg.connection import Connection
        from asyncpg.prepared_stmt import PreparedStatement

        targets = [
            (Connection, "execute"),  # a simple query: BEGIN, COMMIT, ROLLBACK
            (Connection, "_do_execute"),  # fetch, fetchrow, ... (the pre-ping's ";")
            (PreparedStatement, "_PreparedStatement__do_execute"),  # SQLAlchemy's statements
        ]
        for owner, name in targets:
            original = getattr(owner, name)
            self._saved.append((owner, name, original))
            setattr(owner, name, self._counting(original))
        return self

    def _counting(self, original: Any) -> Any:
        async def counted(connection: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(connection, *args, **kwargs)

        return counted

    def __exit__(self, *_: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)


async def sign_up(app: ASGIApp, email: str) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
        body = {"email": email, "password": PASSWORD, "full_name": "Bench User"}
        response = await client.post(REGISTER, json=body)
        if response.status_code != 202:
            raise BenchError(f"register: {response.status_code} {response.text}")
        response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        if response.status_code != 200:
            raise BenchError(f"login: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token


async def measure(requests: int, concurrency: int, profile_it: bool) -> None:
    from aibos.platform.app import create_app
    from aibos.platform.settings import Settings
    from bench.reference import app as reference_app

    api_app: Any = create_app(Settings())  # the environment set in main_async
    reference: Any = reference_app
    async with (
        api_app.router.lifespan_context(api_app),
        reference.router.lifespan_context(reference),
    ):
        email = f"bench-{secrets.token_hex(4)}@example.com"
        me = me_call(await sign_up(api_app, email))
        for app in (api_app, reference):
            await drive(app, me, 500, concurrency)  # warm up caches, pools, statements
        apps = {"api": api_app, "reference": reference}
        best = await cpu_per_request(apps, me, requests, concurrency)
        api_us, reference_us = best["api"], best["reference"]
        print(
            f"GET {ME}: in-process CPU per request ({concurrency} at a time, best of {BATCHES}"
            f" batches of {requests}): api {api_us:.0f} us, reference {reference_us:.0f} us,"
            f" ratio {reference_us / api_us:.2f}"
        )
        connects = 0

        def count_connect(*_: object) -> None:
            nonlocal connects
            connects += 1

        pool = api_app.state.container.engine().sync_engine.pool
        event.listen(pool, "connect", count_connect)
        with RoundTrips() as trips:
            await drive(api_app, me, requests, concurrency)
        event.remove(pool, "connect", count_connect)
        api_trips = trips.count / requests
        with RoundTrips() as trips:
            await drive(reference, me, requests, concurrency)
        print(
            f"  PostgreSQL round trips per request: api {api_trips:.2f},"
            f" reference {trips.count / requests:.2f}; the API's pool opened {connects} new"
            f" connections in {requests} requests ({concurrency} at a time, pool"
            f" {pool.size()} + {pool._max_overflow} overflow)"
        )
        await measure_login(api_app, login_call(email))
        if profile_it:
            profile = cProfile.Profile()
            profile.enable()
            await drive(api_app, me, requests, concurrency)
            profile.disable()
            report_profile(profile, requests, f"GET {ME} (API)", steps=True)
            # The loop thread's CPU clock: wall time would count its waits for the GIL, which
            # the hashing threads take between their calls into argon2.
            profile = cProfile.Profile(time.thread_time)
            profile.enable()
            await drive(api_app, login_call(email), LOGINS, LOGIN_CONCURRENCY)
            profile.disable()
            report_profile(profile, LOGINS, f"POST {LOGIN} (event loop only)", steps=False)


async def measure_login(api_app: ASGIApp, login: Call) -> None:
    """The event loop's own CPU per login: argon2 runs in other threads, so what is left is
    the work that competes with every other request on the loop."""
    await drive(api_app, login, 20, LOGIN_CONCURRENCY)
    best = float("inf")
    for _ in range(3):
        began = time.thread_time()
        await drive(api_app, login, LOGINS, LOGIN_CONCURRENCY)
        best = min(best, (time.thread_time() - began) / LOGINS * 1000)
    with RoundTrips() as trips:
        await drive(api_app, login, LOGINS, LOGIN_CONCURRENCY)
    print(
        f"POST {LOGIN}: event-loop CPU per login {best:.2f} ms (best of 3 batches of {LOGINS},"
        f" {LOGIN_CONCURRENCY} at a time; the argon2 hash runs in other threads);"
        f" PostgreSQL round trips per login {trips.count / LOGINS:.2f}"
    )


async def main_async(requests: int, concurrency: int, profile_it: bool) -> int:
    options = Options(
        duration=0,
        warmup=0,
        connections=0,
        login_clients=0,
        health_interval=0,
        phases=(),
        api_env={},
        pg_port=5432,
        redis_url=f"redis://{HOST}:6379/0",
    )
    run_id = secrets.token_hex(4)
    database = f"aibos_bench_{run_id}"
    namespace = f"aibos-bench-{run_id}"
    database_url = f"postgresql+asyncpg://postgres@{HOST}:{options.pg_port}/{database}"
    settings = {
        "AIBOS_ENV": "production",
        "AIBOS_DATABASE_URL": database_url,
        "AIBOS_REDIS_URL": options.redis_url,
        "AIBOS_SECRET_KEY": secrets.token_urlsafe(48),
        # Production wants an SMTP server; what a run mails goes nowhere.
        "AIBOS_SMTP_HOST": "127.0.0.1",
        "AIBOS_CACHE_NAMESPACE": namespace,
        "AIBOS_LOG_LEVEL": "WARNING",
        "AIBOS_RATE_LIMIT_LOGIN_PER_ACCOUNT": NO_LOGIN_LIMIT,
        "AIBOS_RATE_LIMIT_LOGIN_PER_ADDRESS": NO_LOGIN_LIMIT,
    }
    await create_database(options, database)
    try:
        with tempfile.TemporaryDirectory(prefix="aibos-bench-") as scratch:
            await run_checked(["-m", "aibos", "migrate"], child_env(settings), Path(scratch))
        for key in [key for key in os.environ if key.startswith("AIBOS_")]:
            del os.environ[key]
        os.environ.update(settings)
        await measure(requests, concurrency, profile_it)
    except BenchError as error:
        print(f"profile failed: {error}", flush=True)
        return 2
    finally:
        await drop_database(options, database)
        await delete_redis_keys(options.redis_url, namespace)
        print(f"\ncleanup: database {database} dropped, Redis keys of {namespace} deleted")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile GET /users/me in-process.")
    parser.add_argument("--requests", type=int, default=1000, help="per batch (1 to 20000)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile part")
    args = parser.parse_args()
    if not 1 <= args.requests <= 20_000 or not 1 <= args.concurrency <= 200:
        parser.error("--requests must be in [1, 20000] and --concurrency in [1, 200]")
    sys.exit(uvloop.run(main_async(args.requests, args.concurrency, not args.no_profile)))


if __name__ == "__main__":
    main()
