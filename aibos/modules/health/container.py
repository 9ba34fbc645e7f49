from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.health.service import HealthService
from aibos.platform.cache import Cache
from aibos.platform.settings import Settings


class HealthContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Dependency(instance_of=AsyncEngine)
    cache = providers.Dependency(instance_of=Cache)

    service = providers.Singleton(HealthService, settings=settings, engine=engine, cache=cache)
