"""Prometheus metrics; aggregated across worker processes when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "aibos_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "aibos_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_OPEN = Gauge(
    "aibos_db_pool_connections_open",
    "Database connections held open by the pool",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "aibos_db_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    labels = (method, route, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


def instrument_pool(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool

    def opened(*_: Any) -> None:
        POOL_OPEN.inc()

    def closed(*_: Any) -> None:
        POOL_OPEN.dec()

    def checked_out(*_: Any) -> None:
        POOL_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        POOL_IN_USE.dec()

    event.listen(pool, "connect", opened)
    event.listen(pool, "close", closed)
    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def _registry() -> CollectorRegistry:
    if MULTIPROC_DIR_VARIABLE not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def forget_this_process() -> None:
    """Drop this worker's live gauges from the shared directory when it stops."""
    if MULTIPROC_DIR_VARIABLE in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
