"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams (uvloop), for 127.0.0.1 only.

    uv run python -m bench.load --port 8000 --path /api/v1/health --connections 50 --duration 10

bench/run.py starts it in a process of its own, so the client never shares an interpreter (or a
GIL) with the server it measures, and reads the one JSON object it prints on stdout:
requests, requests/s, latency percentiles, status counts, and the CPU the client itself used
(`client_cores`: CPU seconds / wall seconds over the counted window), to show whether the
client was the limit, and the same for the whole machine and for each `--watch` group of
processes (the server by pid, its PostgreSQL backends by the database name in their title),
and for a server given by pid, its main thread alone (`main_thread_cores`: the event loop).

Two modes, both bounded in time (`--duration`) and in count (`--max-requests`):

- closed loop (default): each of `--connections` connections sends its next request as soon as
  the previous answer is in: the server's throughput at that concurrency;
- paced (`--interval S`): one request every S seconds whether or not the previous one has
  answered (open loop, up to `--connections` connections), so a stalled server shows up as
  latency instead of as requests that were never sent.

Requests that start during the first `--warmup` seconds are sent but not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvloop

ALLOWED_HOST = "127.0.0.1"
MAX_HEADER_BYTES = 64 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0
GRACE_SECONDS = 10.0  # in-flight requests may finish this long after --duration, then are cut
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProtocolError(Exception):
    pass


CALL_ERRORS = (OSError, EOFError, asyncio.LimitOverrunError, ProtocolError, ValueError)


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0


@dataclass(frozen=True)
class Plan:
    port: int
    request: bytes
    connections: int
    warmup: float
    duration: float
    interval: float
    max_requests: int
    watch: tuple[tuple[str, str], ...] = ()


def build_request(method: str, path: str, port: int, headers: list[str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {ALLOWED_HOST}:{port}"]
    lines += headers
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the server will close the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("header too large")
    status = int(head[9:12])
    length = -1
    chunked = False
    close = False
    for line in head.lower().split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length > 0:
        await reader.readexactly(length)
    elif length < 0 and status not in (204, 304):
        raise ProtocolError("response without a length")
    return status, close


class Connection:
    """One keep-alive connection. A request sent on a connection the server has meanwhile
    closed as idle (uvicorn: after 5 s) is sent again once on a new one, as HTTP clients do."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(self, request: bytes) -> int:
        reused = self.streams is not None
        try:
            return await self._call(request)
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as error:
            nothing_read = not isinstance(error, asyncio.IncompleteReadError) or not error.partial
            if not (reused and nothing_read):
                raise
        return await self._call(request)

    async def _call(self, request: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.wait_for(
                asyncio.open_connection(ALLOWED_HOST, self.port), CONNECT_TIMEOUT_SECONDS
            )
        reader, writer = self.streams
        writer.write(request)
        try:
            status, close = await read_response(reader)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
        self.streams = None


def _note_error(stats: Stats, error: Exception) -> None:
    stats.errors[type(error).__name__] += 1


async def closed_loop(plan: Plan, stats: Stats, start: float) -> None:
    measure_from = start + plan.warmup
    stop_at = measure_from + plan.duration

    async def worker() -> None:
        connection = Connection(plan.port)
        try:
            while time.perf_counter() < stop_at and stats.sent < plan.max_requests:
                stats.sent += 1
                began = time.perf_counter()
                try:
                    status = await connection.call(plan.request)
                except CALL_ERRORS as error:
                    if began >= measure_from:
                        _note_error(stats, error)
                    await asyncio.sleep(0.01)  # a refused or reset connection: do not spin
                    continue
                if began >= measure_from:
                    stats.latencies.append(time.perf_counter() - began)
                    stats.statuses[status] += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(plan.connections)))


async def paced(plan: Plan, stats: Stats, start: float) -> None:
    measure_from = start + plan.warmup
    stop_at = measure_from + plan.duration
    idle: list[Connection] = []
    busy = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one_call(scheduled: float) -> None:
        nonlocal busy
        connection = idle.pop() if idle else Connection(plan.port)
        busy += 1
        try:
            status = await connection.call(plan.request)
        except CALL_ERRORS as error:
            if scheduled >= measure_from:
                _note_error(stats, error)
            connection.close()
            return
        finally:
            busy -= 1
        if scheduled >= measure_from:
            # From the moment it was due, so time spent waiting to be sent counts too.
            stats.latencies.append(time.perf_counter() - scheduled)
            stats.statuses[status] += 1
        idle.append(connection)

    tick = 0
    while stats.sent < plan.max_requests:
        scheduled = start + tick * plan.interval
        if scheduled >= stop_at:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tick += 1
        if busy >= plan.connections:
            if scheduled >= measure_from:
                stats.errors["skipped: all connections busy"] += 1
            continue
        stats.sent += 1
        task = asyncio.create_task(one_call(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu_seconds(pid: int, thread: int | None = None) -> float | None:
    """utime + stime of every thread of a process, or of one of its threads, from /proc
    (Linux); None once it is gone."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _pids_running(fragment: str) -> list[int]:
    """Processes whose command line holds `fragment` (PostgreSQL backends name their database)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if fragment.encode() in cmdline.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return float("nan")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def parse_watch(spec: str) -> tuple[str, str]:
    """`LABEL=PID` or `LABEL=cmd:FRAGMENT`."""
    label, _, target = spec.partition("=")
    if not label or not (target.isdigit() or target.startswith("cmd:")):
        raise ValueError(f"--watch {spec!r}: expected LABEL=PID or LABEL=cmd:FRAGMENT")
    return label, target


def _cpu_by_pid(target: str) -> dict[int, float]:
    pids = [int(target)] if target.isdigit() else _pids_running(target.removeprefix("cmd:"))
    found = {pid: _process_cpu_seconds(pid) for pid in pids}
    return {pid: seconds for pid, seconds in found.items() if seconds is not None}


@dataclass(frozen=True)
class Snapshot:
    at: float
    own: float
    machine: float
    watched: dict[str, dict[int, float]]
    main_threads: dict[str, dict[int, float]]

    @classmethod
    def take(cls, watch: tuple[tuple[str, str], ...]) -> Snapshot:
        main_threads = {}
        for label, target in watch:
            if target.isdigit():  # a server: its main thread runs the event loop
                seconds = _process_cpu_seconds(int(target), thread=int(target))
                main_threads[label] = {} if seconds is None else {int(target): seconds}
        return cls(
            at=time.perf_counter(),
            own=_own_cpu_seconds(),
            machine=machine_busy_seconds(),
            watched={label: _cpu_by_pid(target) for label, target in watch},
            main_threads=main_threads,
        )


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used by the processes alive at both ends of the window."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


async def measure_window(plan: Plan, start: float) -> dict[str, Any]:
    """CPU used, in cores, over the counted window: by this client, by each watched group of
    processes (the server, its database backends) and by the whole machine."""
    await asyncio.sleep(max(0.0, start + plan.warmup - time.perf_counter()))
    before = Snapshot.take(plan.watch)
    await asyncio.sleep(max(0.0, start + plan.warmup + plan.duration - time.perf_counter()))
    after = Snapshot.take(plan.watch)
    wall = after.at - before.at
    return {
        "client_cores": (after.own - before.own) / wall,
        "machine_busy_cores": (after.machine - before.machine) / wall,
        "main_thread_cores": {
            label: _used(before.main_threads[label], after.main_threads[label]) / wall
            for label in before.main_threads
        },
        "watched_cores": {
            label: _used(before.watched[label], after.watched[label]) / wall
            for label, _ in plan.watch
        },
    }


async def run(plan: Plan) -> dict[str, Any]:
    stats = Stats()
    start = time.perf_counter()
    window = asyncio.create_task(measure_window(plan, start))
    work = paced(plan, stats, start) if plan.interval > 0 else closed_loop(plan, stats, start)
    timed_out = False
    try:
        async with asyncio.timeout(plan.warmup + plan.duration + GRACE_SECONDS):
            await work
    except TimeoutError:
        timed_out = True
    cpu = await window  # ends with the counted window, even when the work stopped earlier
    ordered = sorted(stats.latencies)
    answered = len(ordered)
    return {
        "requests": answered,
        "sent": stats.sent,
        "requests_per_second": answered / plan.duration,
        "ok": stats.statuses.get(200, 0),
        "non_200": {str(code): n for code, n in sorted(stats.statuses.items()) if code != 200},
        "errors": dict(stats.errors),
        "timed_out": timed_out,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p90_ms": percentile(ordered, 0.90) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
        **cpu,
    }


def checked_watch(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[tuple[str, str], ...]:
    """The processes --watch names, once --host, --duration and --warmup are fit for a load."""
    if args.host != ALLOWED_HOST:
        parser.error(f"load is only ever generated against {ALLOWED_HOST}")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    try:
        return tuple(parse_watch(spec) for spec in args.watch)
    except ValueError as error:
        parser.error(str(error))


def print_result(result: dict[str, Any]) -> None:
    """The result as one line of JSON on stdout, for the bench that runs this load."""
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default=ALLOWED_HOST, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--body", default="", help="request body (sent as is)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds sent but not counted")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--interval", type=float, default=0.0, help="paced: seconds between")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument(
        "--watch",
        action="append",
        default=[],
        help="LABEL=PID or LABEL=cmd:FRAGMENT: report the CPU (cores) these processes used",
    )
    args = parser.parse_args(argv)
    args.watch = checked_watch(parser, args)
    if not 1 <= args.connections <= 1000:
        parser.error("--connections must be in [1, 1000]")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plan = Plan(
        port=args.port,
        request=build_request(
            args.method.upper(), args.path, args.port, args.header, args.body.encode()
        ),
        connections=args.connections,
        warmup=args.warmup,
        duration=args.duration,
        interval=args.interval,
        max_requests=args.max_requests,
        watch=args.watch,
    )
    print_result(uvloop.run(run(plan)))


if __name__ == "__main__":
    main()
