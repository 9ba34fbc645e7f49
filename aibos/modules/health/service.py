from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos import STARTED_AT, __version__
from aibos.modules.health.schemas import (
    CheckResult,
    CheckStatus,
    HealthReport,
    Liveness,
    OverallStatus,
    Readiness,
)
from aibos.platform.cache import Cache
from aibos.platform.migrations import current_revision, head_revision
from aibos.platform.settings import Settings

# Without these the service cannot answer correctly; without the others it answers slower.
ESSENTIAL_CHECKS = frozenset({"database", "migrations"})


class MigrationsBehind(Exception):
    pass


class HealthService:
    def __init__(self, *, settings: Settings, engine: AsyncEngine, cache: Cache) -> None:
        self._settings = settings
        self._engine = engine
        self._cache = cache

    def liveness(self) -> Liveness:
        return Liveness(
            status="ok",
            version=__version__,
            environment=self._settings.env,
            uptime_seconds=self._uptime(),
        )

    async def readiness(self) -> Readiness:
        report = await self.report()
        return Readiness(
            status=report.status,
            checks={name: result.status for name, result in report.checks.items()},
        )

    async def report(self) -> HealthReport:
        names = ("database", "cache", "migrations")
        results = await asyncio.gather(
            self._run(self._check_database),
            self._run(self._check_cache),
            self._run(self._check_migrations),
        )
        checks = dict(zip(names, results, strict=True))
        return HealthReport(
            status=_overall(checks),
            version=__version__,
            environment=self._settings.env,
            uptime_seconds=self._uptime(),
            checks=checks,
        )

    async def _check_database(self) -> str:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return self._engine.dialect.name

    async def _check_cache(self) -> str:
        await self._cache.ping()
        return "in-process" if self._cache.in_process else "redis"

    async def _check_migrations(self) -> str:
        current, head = await current_revision(self._engine), head_revision()
        if current != head:
            raise MigrationsBehind(f"database at {current}, code expects {head}")
        return f"at head {head}"

    async def _run(self, check: Callable[[], Awaitable[str]]) -> CheckResult:
        timeout = self._settings.health_check_timeout_seconds
        started_at = time.perf_counter()
        try:
            detail = await asyncio.wait_for(check(), timeout)
            status = CheckStatus.UP
        except TimeoutError:
            detail, status = f"no answer within {timeout}s", CheckStatus.DOWN
        except Exception as error:
            detail, status = _describe(error), CheckStatus.DOWN
        latency_ms = round((time.perf_counter() - started_at) * 1000, 2)
        return CheckResult(status=status, latency_ms=latency_ms, detail=detail)

    def _uptime(self) -> float:
        """Seconds since this process started (each worker counts its own)."""
        return round(time.monotonic() - STARTED_AT, 3)


def _describe(error: Exception) -> str:
    # The exception's type names the failure without echoing connection strings or SQL.
    return str(error) if isinstance(error, MigrationsBehind) else type(error).__name__


def _overall(checks: dict[str, CheckResult]) -> OverallStatus:
    down = {name for name, result in checks.items() if result.status is CheckStatus.DOWN}
    if down & ESSENTIAL_CHECKS:
        return OverallStatus.UNHEALTHY
    return OverallStatus.DEGRADED if down else OverallStatus.HEALTHY
