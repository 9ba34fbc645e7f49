"""Speed benchmark of the real API: GET /users/me against a bare reference, logins, health.

    uv run python -m bench.run              # about 100 s; --help for durations, clients, parts

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379.
It creates a fresh database `aibos_bench_<random>`, migrates it (`python -m aibos migrate`),
starts the real API (`python -m aibos serve`, AIBOS_ENV=production, one worker, log level
WARNING) and bench/reference.py (Starlette + asyncpg, one worker), each in its own process,
registers a user and logs in through the real API for a real access token, then measures with
bench/load.py (raw asyncio HTTP/1.1 keep-alive, in a process of its own):

1. users/me: each server warmed up, then `--duration` seconds at `--connections` concurrent
   keep-alive connections; requests/s, p50, p99, and the ratio api / reference (goal >= 0.5);
   also each server's CPU per request, whose ratio moves much less than requests/s when
   other work shares the machine;
2. login: logins/s through the API from `--login-clients` clients, in 5 segments that
   add up to `--duration`, each followed by a segment of the same length on the reference's
   login, and the median time of one argon2id hash at the parameters the app ships (Settings
   defaults), timed in this process before the first segment pair and after each;
   goal: 0.8 x os.cpu_count() / that hash time. For scale, the hashes/s of one hashing thread
   per core in this process with nothing else running (the most any login could reach), and
   the reference's logins/s (what the least a login must do reaches here) with the api's ratio;
3. health: GET /api/v1/health every 20 ms, first on an idle server, then while
   `--login-clients` clients log in without pause; goal: p99 < 100 ms under load.

For each run it prints where the CPU went (load client, server and its event-loop thread, the
run's PostgreSQL backends, other processes), so a busy machine or a saturated client shows.
The API's login rate limits are lifted for the run (AIBOS_RATE_LIMIT_LOGIN_PER_ACCOUNT and
AIBOS_RATE_LIMIT_LOGIN_PER_ADDRESS = 1000000/60), and its Redis keys get a namespace of their
own. Every answer other than 200 is counted and printed (it must be 0; the exit status is 1
otherwise). At the end the servers are stopped, the database dropped and the run's Redis keys
deleted, whatever happened. `--api-env AIBOS_X=V` tries a setting on the API alone.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from argon2 import PasswordHasher, Type
from redis.asyncio import Redis

from aibos.platform.settings import Settings
from bench.load import machine_busy_seconds

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]
ME = "/api/v1/users/me"
HEALTH = "/api/v1/health"
LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
NO_LOGIN_LIMIT = "1000000/60"
PASSWORD = "Bench-" + secrets.token_hex(8) + "-9"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
HASH_SAMPLES = 7  # before the logins and after each of their segments
LOGIN_SEGMENTS = 5
SEGMENT_WARMUP_SECONDS = 0.5
HEALTH_CONNECTIONS = 100  # paced calls in flight at most: 2 s of a stalled server at 20 ms
PHASES = ("users-me", "login", "health")
ARGON2_SETTINGS = ("AIBOS_ARGON2_TIME_COST", "AIBOS_ARGON2_MEMORY_KIB", "AIBOS_ARGON2_PARALLELISM")
LOAD_RUNS: list[dict[str, Any]] = []  # every load client's result, for the summary


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    connections: int
    login_clients: int
    health_interval: float
    phases: tuple[str, ...]
    api_env: dict[str, str]
    pg_port: int
    redis_url: str


@dataclass
class Server:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class BenchError(Exception):
    pass


def say(message: str) -> None:
    print(message, flush=True)


def say_summary(lines: list[str]) -> None:
    say("\nsummary")
    for line in lines:
        say(line)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any AIBOS_* setting of the caller's, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIBOS_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


# --- PostgreSQL and Redis --------------------------------------------------------------------


def admin_dsn(options: Options) -> str:
    return f"postgresql://postgres@{HOST}:{options.pg_port}/postgres"


async def create_database(options: Options, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn(options), timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(options: Options, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn(options), timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def delete_redis_keys(redis_url: str, namespace: str) -> int:
    client = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


# --- processes -------------------------------------------------------------------------------


async def start_server(
    name: str, args: Sequence[str], env: dict[str, str], cwd: Path, logs: Path
) -> Server:
    port = free_port()
    log = logs / f"{name}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            "--port",
            str(port),
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    return Server(name=name, port=port, process=process, log=log)


async def stop_server(server: Server) -> None:
    if server.process.returncode is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(server.process.wait(), STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        server.process.kill()
        await server.process.wait()


def failed_with(error: BenchError, servers: list[Server]) -> int:
    """Says what failed and each server's last log lines; the exit status of a failed bench."""
    say(f"\nbench failed: {error}")
    for server in servers:
        say(f"--- {server.name} log (last lines):\n{server.log_tail()}")
    return 2


async def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        await stop_server(server)


async def wait_until_answers(
    server: Server, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", timeout=5) as client:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise BenchError(f"{server.name} exited:\n{server.log_tail()}")
            try:
                response = await client.get(path, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            if response.status_code == 200:
                return response
            raise BenchError(f"{server.name} {path}: {response.status_code} {response.text}")
    raise BenchError(f"{server.name} did not answer within {START_TIMEOUT_SECONDS:.0f} s")


async def run_checked(args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchError(f"{' '.join(args)} took over {START_TIMEOUT_SECONDS:.0f} s") from None
    if process.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{output.decode(errors='replace')}")


@dataclass(frozen=True)
class Load:
    """One bench/load.py run, as arguments."""

    port: int
    path: str
    connections: int
    duration: float
    warmup: float = 0.0
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body: str = ""
    interval: float = 0.0
    watch: tuple[tuple[str, str], ...] = ()

    def args(self) -> list[str]:
        args = ["-m", "bench.load", "--port", str(self.port), "--path", self.path]
        args += ["--method", self.method, "--connections", str(self.connections)]
        args += ["--duration", str(self.duration), "--warmup", str(self.warmup)]
        args += ["--interval", str(self.interval)]
        for header in self.headers:
            args += ["--header", header]
        if self.body:
            args += ["--body", self.body]
        for label, target in self.watch:
            args += ["--watch", f"{label}={target}"]
        return args


async def run_client(args: list[str], *, limit: float) -> dict[str, Any]:
    """Run a load client in a process of its own and read the JSON it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=REPO,
        env=child_env({}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        output, errors = await asyncio.wait_for(process.communicate(), limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchError(f"the load client ran over {limit:.0f} s") from None
    if process.returncode != 0:
        raise BenchError(f"the load client failed:\n{errors.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(output)
    return result


async def run_load(load: Load) -> dict[str, Any]:
    result = await run_client(load.args(), limit=load.warmup + load.duration + 30)
    LOAD_RUNS.append(result)
    return result


# --- figures ---------------------------------------------------------------------------------


def failures(result: dict[str, Any]) -> int:
    return int(
        sum(result["non_200"].values()) + sum(result["errors"].values()) + result["timed_out"]
    )


def failure_text(result: dict[str, Any]) -> str:
    parts = [f"{code}: {n}" for code, n in result["non_200"].items()]
    parts += [f"{name}: {n}" for name, n in result["errors"].items()]
    if result["timed_out"]:
        parts.append("timed out")
    return f"{failures(result)}" + (f" ({', '.join(parts)})" if parts else "")


def other_cores(result: dict[str, Any]) -> float:
    """Cores used during the counted window by processes that are not part of the run."""
    watched: dict[str, float] = result["watched_cores"]
    other = result["machine_busy_cores"] - result["client_cores"] - sum(watched.values())
    return max(float(other), 0.0)


def cores(result: dict[str, Any]) -> str:
    """Where the CPU went during the counted window, in cores."""
    watched: dict[str, float] = result["watched_cores"]
    machine = result["machine_busy_cores"]
    parts = [f"client {result['client_cores']:.2f}"]
    loops: dict[str, float] = result.get("main_thread_cores", {})
    parts += [
        f"{label} {used:.2f}" + (f" (event loop {loops[label]:.2f})" if label in loops else "")
        for label, used in watched.items()
    ]
    parts += [f"other processes {other_cores(result):.2f}"]
    return f"cores: {', '.join(parts)}; machine busy {machine:.2f} of {os.cpu_count()}"


def server_ms(result: dict[str, Any], label: str, part: str = "watched_cores") -> float:
    """CPU milliseconds the server process (or its `main_thread_cores`) spent per request."""
    used = float(result[part][label])
    return 1000 * used / max(float(result["requests_per_second"]), 1e-9)


def cpu_per_request(result: dict[str, Any], label: str) -> str:
    rate = max(result["requests_per_second"], 1e-9)
    postgres = 1000 * result["watched_cores"]["postgres"] / rate
    return f"CPU per request: {label} {server_ms(result, label):.2f} ms, postgres {postgres:.2f} ms"


def latency(result: dict[str, Any]) -> str:
    return f"p50 {result['p50_ms']:.1f} ms p99 {result['p99_ms']:.1f} ms"


def throughput(result: dict[str, Any], unit: str = "req/s") -> str:
    return f"{result['requests_per_second']:.0f} {unit} {latency(result)}"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def argon2_parameters(api_env: Mapping[str, str]) -> tuple[int, int, int]:
    """The API's argon2id parameters: its defaults, or those `--api-env` gives it."""

    def setting(variable: str) -> int:
        given = api_env.get(variable)
        name = variable.removeprefix("AIBOS_").lower()
        value = Settings.model_fields[name].default if given is None else int(given)
        assert isinstance(value, int)
        return value

    time_cost, memory_kib, parallelism = (setting(variable) for variable in ARGON2_SETTINGS)
    return time_cost, memory_kib, parallelism


def single_hash_seconds(time_cost: int, memory_kib: int, parallelism: int) -> list[float]:
    """The times of HASH_SAMPLES hashes, one after another."""
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )
    hasher.hash(PASSWORD)  # the first call pays for warming up
    samples = []
    for _ in range(HASH_SAMPLES):
        began = time.perf_counter()
        hasher.hash(PASSWORD)
        samples.append(time.perf_counter() - began)
    return samples


def hashes_per_second_on_every_core(
    time_cost: int, memory_kib: int, parallelism: int, seconds: float = 3.0
) -> float:
    """Hashes/s with one hashing thread per core and nothing else to do: the most any login
    route could reach on this machine (argon2 releases the GIL while it hashes)."""
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )
    began = time.perf_counter()
    done = [0] * (os.cpu_count() or 1)

    def hash_until_time_is_up(thread: int) -> None:
        while time.perf_counter() - began < seconds:
            hasher.hash(PASSWORD)
            done[thread] += 1

    threads = [threading.Thread(target=hash_until_time_is_up, args=(n,)) for n in range(len(done))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - began)


# --- the run ---------------------------------------------------------------------------------


async def sign_up(api: Server, email: str) -> str:
    """Register through the real API, log in, and return the access token."""
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{api.port}", timeout=10) as client:
        body = {"email": email, "password": PASSWORD, "full_name": "Bench User"}
        response = await client.post(REGISTER, json=body)
        if response.status_code != 202:
            raise BenchError(f"register: {response.status_code} {response.text}")
        response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        if response.status_code != 200:
            raise BenchError(f"login: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token


@dataclass(frozen=True)
class Bench:
    options: Options
    database: str
    email: str
    api: Server
    reference: Server
    token: str

    def watch(self, server: Server) -> tuple[tuple[str, str], ...]:
        """The server's process, and the PostgreSQL backends of this run's database."""
        return ((server.name, str(server.pid)), ("postgres", f"cmd:{self.database} "))

    def logins(self, duration: float, warmup: float, server: Server | None = None) -> Load:
        server = server or self.api
        return Load(
            port=server.port,
            path=LOGIN,
            method="POST",
            connections=self.options.login_clients,
            warmup=warmup,
            duration=duration,
            headers=("Content-Type: application/json",),
            body=json.dumps({"email": self.email, "password": PASSWORD}),
            watch=self.watch(server),
        )

    def health(self, duration: float, warmup: float) -> Load:
        return Load(
            port=self.api.port,
            path=HEALTH,
            connections=HEALTH_CONNECTIONS,
            warmup=warmup,
            duration=duration,
            interval=self.options.health_interval,
            watch=self.watch(self.api),
        )


async def bench_users_me(bench: Bench) -> tuple[str, int]:
    options = bench.options
    results: dict[str, dict[str, Any]] = {}
    for server in (bench.api, bench.reference):
        result = await run_load(
            Load(
                port=server.port,
                path=ME,
                connections=options.connections,
                warmup=options.warmup,
                duration=options.duration,
                headers=(f"Authorization: Bearer {bench.token}",),
                watch=bench.watch(server),
            )
        )
        results[server.name] = result
        say(
            f"  {server.name:<9} {throughput(result)} | non-200 {failure_text(result)}"
            f"\n            {cores(result)}\n            {cpu_per_request(result, server.name)}"
        )
    api, reference = results["api"], results["reference"]
    ratio = api["requests_per_second"] / reference["requests_per_second"]
    bad = failures(api) + failures(reference)
    # Other work on the machine moves requests/s; CPU per request moves much less, so its
    # ratio says what the API would reach next to the reference with the cores to itself.
    cpu_ratio = server_ms(reference, "reference") / server_ms(api, "api")
    line = (
        f"users/me  api {throughput(api)} | reference {throughput(reference)}"
        f" | ratio {ratio:.2f} (goal >= 0.5: {verdict(ratio >= 0.5 and bad == 0)})"
        f" | server CPU per request api {server_ms(api, 'api'):.2f} ms reference"
        f" {server_ms(reference, 'reference'):.2f} ms, ratio {cpu_ratio:.2f}"
        f" | non-200 api {failures(api)} reference {failures(reference)}"
    )
    return line, bad


async def bench_login(bench: Bench) -> tuple[str, int]:
    options = bench.options
    time_cost, memory_kib, parallelism = argon2_parameters(options.api_env)
    hashing = functools.partial(single_hash_seconds, time_cost, memory_kib, parallelism)
    # A virtual machine's speed drifts from one minute to the next, so the logins run in short
    # segments with the hash timed between them, and the goal follows the median of all.
    samples = await asyncio.to_thread(hashing)
    segments: dict[str, list[dict[str, Any]]] = {"api": [], "reference": []}
    for number in range(LOGIN_SEGMENTS):
        warmup = options.warmup if number == 0 else SEGMENT_WARMUP_SECONDS
        # The reference takes its turn right after the API's, so both meet the same moment.
        for server in (bench.api, bench.reference):
            duration = options.duration / LOGIN_SEGMENTS
            result = await run_load(bench.logins(duration, warmup, server))
            segments[server.name].append(result)
            say(
                f"  segment {number + 1} {server.name:<9}"
                f" {result['requests_per_second']:.1f} logins/s {latency(result)}"
                f" | non-200 {failure_text(result)}\n            {cores(result)}"
            )
        samples += await asyncio.to_thread(hashing)
        say(f"  one hash {statistics.median(samples[-HASH_SAMPLES:]) * 1000:.1f} ms after them")
    one_hash = statistics.median(samples)
    cpu_count = os.cpu_count() or 1
    goal = 0.8 * cpu_count / one_hash
    ceiling = await asyncio.to_thread(
        hashes_per_second_on_every_core, time_cost, memory_kib, parallelism
    )
    rate, reference_rate = (
        sum(result["requests"] for result in segments[name]) / options.duration
        for name in ("api", "reference")
    )
    p99 = max(result["p99_ms"] for result in segments["api"])
    bad = sum(failures(result) for result in segments["api"])
    say(
        f"  every core hashing in this process, nothing else running: {ceiling:.1f} hashes/s"
        f" ({ceiling * one_hash / cpu_count:.2f} x cores / one hash)"
    )
    for name in ("api", "reference"):
        loop_ms = statistics.mean(server_ms(r, name, "main_thread_cores") for r in segments[name])
        postgres_ms = statistics.mean(server_ms(r, "postgres") for r in segments[name])
        say(
            f"  CPU per login besides the hash, {name}: event loop {loop_ms:.2f} ms,"
            f" postgres {postgres_ms:.2f} ms (mean of the segments)"
        )
    line = (
        f"login     one argon2id hash {one_hash * 1000:.1f} ms (t={time_cost} m={memory_kib} KiB"
        f" p={parallelism}; median of {len(samples)}, timed between the segments)"
        f" | api {rate:.1f} logins/s, p99 {p99:.1f} ms in the worst segment"
        f" ({options.login_clients} clients, {LOGIN_SEGMENTS} segments)"
        f" | goal 0.8 x {cpu_count} cores / one hash = {goal:.1f} logins/s:"
        f" {verdict(rate >= goal and bad == 0)} ({rate / goal:.2f} of goal) | non-200 {bad}"
        f" | bare hashing on every core: {ceiling:.1f}/s ({ceiling / goal:.2f} of goal;"
        f" the api reaches {rate / ceiling:.2f} of it)"
        f" | reference {reference_rate:.1f} logins/s ({reference_rate / goal:.2f} of goal;"
        f" api / reference {rate / reference_rate:.2f}, non-200"
        f" {sum(failures(result) for result in segments['reference'])})"
    )
    return line, bad


async def bench_health(bench: Bench) -> tuple[str, int]:
    options = bench.options
    idle = await run_load(bench.health(min(options.duration, 3.0), 0.5))
    say(f"  idle:        {latency(idle)} max {idle['max_ms']:.1f} ms")
    # The logins start together with the health calls and run 0.5 s longer; neither counts
    # its first second, so every counted health call meets a server busy with logins.
    busy, logins = await asyncio.gather(
        run_load(bench.health(options.duration, 1.0)),
        run_load(bench.logins(options.duration + 0.5, 1.0)),
    )
    say(
        f"  under login: {latency(busy)} max {busy['max_ms']:.1f} ms"
        f" | non-200 {failure_text(busy)}"
        f"\n            meanwhile {logins['requests_per_second']:.1f} logins/s,"
        f" non-200 {failure_text(logins)}\n            {cores(busy)}"
    )
    bad = failures(idle) + failures(busy) + failures(logins)
    line = (
        f"health    under login load {latency(busy)} max {busy['max_ms']:.1f} ms"
        f" (idle {latency(idle)}) | goal p99 < 100 ms: "
        f"{verdict(busy['p99_ms'] < 100 and bad == 0)} | non-200 {bad}"
    )
    return line, bad


PHASE_RUNNERS = {"users-me": bench_users_me, "login": bench_login, "health": bench_health}


def describe(phase: str, options: Options) -> str:
    if phase == "users-me":
        return (
            f"GET {ME}: {options.connections} keep-alive connections,"
            f" {options.warmup:g} s warm-up + {options.duration:g} s, api then reference"
        )
    if phase == "login":
        return (
            f"POST {LOGIN}: {options.login_clients} clients,"
            f" {options.warmup:g} s warm-up + {options.duration:g} s"
        )
    return (
        f"GET {HEALTH} every {options.health_interval * 1000:g} ms, idle, then while"
        f" {options.login_clients} clients log in without pause"
    )


async def machine_load(seconds: float = 1.0) -> float:
    """Cores the machine keeps busy before we start: others' work competes with the run."""
    before, began = machine_busy_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    return (machine_busy_seconds() - before) / (time.perf_counter() - began)


async def main_async(options: Options) -> int:
    run_id = secrets.token_hex(4)
    database = f"aibos_bench_{run_id}"
    namespace = f"aibos-bench-{run_id}"
    email = f"bench-{run_id}@example.com"
    database_url = f"postgresql+asyncpg://postgres@{HOST}:{options.pg_port}/{database}"
    cpu_count = os.cpu_count()
    env = child_env(
        {
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
    )
    idle_load = await machine_load()
    say(
        f"bench: database {database}, Redis namespace {namespace}, {cpu_count} cores;"
        f" servers: one worker each (uvloop, httptools); load client: bench/load.py in its own"
        f" process\n  API: AIBOS_ENV=production AIBOS_LOG_LEVEL=WARNING, login rate limits"
        f" lifted (AIBOS_RATE_LIMIT_LOGIN_PER_ACCOUNT/_PER_ADDRESS={NO_LOGIN_LIMIT})"
        + "".join(f" {key}={value}" for key, value in options.api_env.items())
        + f"\n  before the run, other processes kept {idle_load:.2f} of {cpu_count} cores busy"
        + (": expect lower, noisier figures" if idle_load > 0.2 else "")
    )
    summary: list[str] = []
    bad = 0
    servers: list[Server] = []
    created = False
    with tempfile.TemporaryDirectory(prefix="aibos-bench-") as scratch:
        workdir = Path(scratch)  # no stray .env is read: the servers start here
        try:
            await create_database(options, database)
            created = True
            await run_checked(["-m", "aibos", "migrate"], env, workdir)
            api_env = {**env, **options.api_env}
            api = await start_server("api", ["-m", "aibos", "serve"], api_env, workdir, workdir)
            servers.append(api)
            await wait_until_answers(api, HEALTH)
            token = await sign_up(api, email)
            auth = {"Authorization": f"Bearer {token}"}
            await wait_until_answers(api, ME, auth)
            hashing = argon2_parameters(options.api_env)
            reference_env = {
                **env,
                **dict(zip(ARGON2_SETTINGS, (str(value) for value in hashing), strict=True)),
            }
            reference = await start_server(
                "reference", ["-m", "bench.reference"], reference_env, REPO, workdir
            )
            servers.append(reference)
            await wait_until_answers(reference, ME, auth)
            bench = Bench(options, database, email, api, reference, token)
            say(f"  api pid {api.pid}, reference pid {reference.pid}")
            for number, phase in enumerate(options.phases, 1):
                say(f"\n[{number}/{len(options.phases)}] {describe(phase, options)}")
                line, failed = await PHASE_RUNNERS[phase](bench)
                summary.append(line)
                bad += failed
            for server in servers:
                if server.process.returncode is not None:
                    raise BenchError(f"{server.name} died:\n{server.log_tail()}")
        except BenchError as error:
            return failed_with(error, servers)
        finally:
            await stop_servers(servers)
            if created:
                await drop_database(options, database)
            removed = await delete_redis_keys(options.redis_url, namespace)
            say(
                f"\ncleanup: servers stopped, database {database} dropped,"
                f" {removed} Redis keys of {namespace} deleted"
            )
    say_summary(summary)
    if LOAD_RUNS:
        client = max(float(result["client_cores"]) for result in LOAD_RUNS)
        others = [other_cores(result) for result in LOAD_RUNS]
        say(
            f"machine   {cpu_count} cores | load client (own process) used at most"
            f" {client:.2f} cores | other processes used {statistics.mean(others):.2f} cores on"
            f" average (max {max(others):.2f}) while measuring"
            + (": the figures are lower than on a quiet machine" if max(others) > 0.2 else "")
        )
    if bad:
        say(f"{bad} answers were not 200: the figures above are not valid")
    return 1 if bad else 0


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--api-env, --pg-port and --redis-url, as every bench takes them."""
    parser.add_argument(
        "--api-env",
        action="append",
        default=[],
        metavar="AIBOS_X=VALUE",
        help="an extra setting for the API process only, to try a change (repeatable)",
    )
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--redis-url", default=f"redis://{HOST}:6379/0")


def checked_api_env(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """The settings --api-env gives, once they and --redis-url are fit for a bench."""
    if not args.redis_url.startswith(f"redis://{HOST}:"):
        parser.error(f"Redis must be on {HOST}")
    api_env: dict[str, str] = dict(item.partition("=")[::2] for item in args.api_env)
    if any(not key.startswith("AIBOS_") for key in api_env):
        parser.error("--api-env takes AIBOS_NAME=VALUE")
    return api_env


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Speed benchmark of the AIBOS API.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=50, help="users/me connections")
    parser.add_argument("--login-clients", type=int, default=20)
    parser.add_argument("--health-interval", type=float, default=0.02, help="seconds")
    parser.add_argument(
        "--only", action="append", choices=PHASES, help="run only this part (repeatable)"
    )
    add_server_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 10:
        parser.error("--duration must be in [1, 60] and --warmup in [0, 10]")
    api_env = checked_api_env(parser, args)
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        login_clients=args.login_clients,
        health_interval=args.health_interval,
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
