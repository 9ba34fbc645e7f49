from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Liveness(BaseModel):
    status: str
    version: str
    environment: str
    uptime_seconds: float


class OverallStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class CheckStatus(StrEnum):
    UP = "up"
    DOWN = "down"


class CheckResult(BaseModel):
    status: CheckStatus
    latency_ms: float
    detail: str


class Readiness(BaseModel):
    status: OverallStatus
    checks: dict[str, CheckStatus]


class HealthReport(BaseModel):
    status: OverallStatus
    version: str
    environment: str
    uptime_seconds: float
    checks: dict[str, CheckResult]
