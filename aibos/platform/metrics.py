"""Prometheus metrics; aggregated across worker processes when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable

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
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import Response

from aibos.platform.errors import NotAuthenticated

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


_watched_pool: QueuePool | None = None
# The labelled series of each (method, route, status): bounded, since routes are templates.
_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    series = _series.get((method, route, status))
    if series is None:
        labels = (method, route, str(status))
        series = _series[method, route, status] = (
            REQUESTS.labels(*labels),
            LATENCY.labels(*labels),
        )
    count, latency = series
    count.inc()
    latency.observe(seconds)
    _refresh_pool_gauges()


def watch_pool(engine: AsyncEngine) -> None:
    """Report this engine's pool; gauges refresh after every request and at every scrape."""
    global _watched_pool
    pool = engine.sync_engine.pool
    _watched_pool = pool if isinstance(pool, QueuePool) else None


def _refresh_pool_gauges() -> None:
    if _watched_pool is not None:
        POOL_IN_USE.set(_watched_pool.checkedout())
        POOL_OPEN.set(_watched_pool.size() + _watched_pool.overflow())


def _registry() -> CollectorRegistry:
    if MULTIPROC_DIR_VARIABLE not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


class MetricsTokenRequired(NotAuthenticated):
    error_code = "METRICS_TOKEN_REQUIRED"


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics route; with a token, only for a caller who presents it as a bearer token."""
    expected = token.encode() if token is not None else None

    async def metrics(request: Request) -> Response:
        if expected is not None and not _presents(request, expected):
            raise MetricsTokenRequired("Metrics need the metrics bearer token.")
        _refresh_pool_gauges()
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)

    return metrics


def _presents(request: Request, expected: bytes) -> bool:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing tells nothing of the token.
    matches = hmac.compare_digest(presented.strip().encode(), expected)
    return scheme.lower() == "bearer" and matches


def forget_this_process() -> None:
    """Drop this worker's live gauges from the shared directory when it stops."""
    if MULTIPROC_DIR_VARIABLE in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
