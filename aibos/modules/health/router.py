from typing import Annotated, Any

from fastapi import Depends, Request, Response

from aibos.modules.health.container import HealthContainer
from aibos.modules.health.schemas import HealthReport, Liveness, OverallStatus, Readiness
from aibos.modules.health.service import HealthService
from aibos.platform.routing import ModuleRouter, module_container
from aibos.platform.security import require

router = ModuleRouter("health")
# Held by no role but the administrator's "*": the report names the database, Redis, latencies and
# the migration revision, which is for operators, not for anyone who can reach the service.
READ_DETAILS = "health:details:read"


async def _service(request: Request) -> HealthService:
    return module_container(request, HealthContainer).service()


HealthServiceDep = Annotated[HealthService, Depends(_service)]
_UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "The database is unreachable or behind"}
}


@router.get("")
async def liveness(service: HealthServiceDep) -> Liveness:
    """Liveness: the process answers. Touches no dependency."""
    return service.liveness()


@router.get("/ready", responses=_UNHEALTHY)
async def readiness(service: HealthServiceDep, response: Response) -> Readiness:
    """Readiness: the database answers and is at the migration head; Redis answers."""
    readiness = await service.readiness()
    if readiness.status is OverallStatus.UNHEALTHY:
        response.status_code = 503
    return readiness


@router.get(
    "/detailed",
    responses={503: {"model": HealthReport}},
    dependencies=[Depends(require(READ_DETAILS))],
)
async def detailed(service: HealthServiceDep, response: Response) -> HealthReport:
    """Every dependency check with its latency and what it found (administrators)."""
    report = await service.report()
    if report.status is OverallStatus.UNHEALTHY:
        response.status_code = 503
    return report
