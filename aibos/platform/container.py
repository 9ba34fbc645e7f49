"""The composition root: shared infrastructure and one container per module."""

import importlib
import pkgutil

from dependency_injector import containers, providers

import aibos.modules
from aibos.modules.health.container import HealthContainer
from aibos.platform.cache import create_cache
from aibos.platform.db import create_engine, create_session_factory
from aibos.platform.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Singleton(create_engine, settings)
    session_factory = providers.Singleton(create_session_factory, engine)
    cache = providers.Singleton(create_cache, settings)

    health = providers.Container(HealthContainer, settings=settings, engine=engine, cache=cache)


def load_all_models() -> None:
    """Import every module's models so that their tables join the shared metadata."""
    for module in pkgutil.iter_modules(aibos.modules.__path__):
        try:
            importlib.import_module(f"aibos.modules.{module.name}.models")
        except ModuleNotFoundError as error:
            if error.name != f"aibos.modules.{module.name}.models":
                raise
