"""The composition root: shared infrastructure and one container per module."""

import importlib
import pkgutil

from dependency_injector import containers, providers

import aibos.modules
from aibos.modules.auth.container import AuthContainer
from aibos.modules.health.container import HealthContainer
from aibos.modules.ledger.container import LedgerContainer
from aibos.modules.users.container import UsersContainer
from aibos.platform.cache import create_cache
from aibos.platform.db import (
    DriverConnections,
    create_engine,
    create_session_factory,
    create_writer_engine,
)
from aibos.platform.events import EventBus
from aibos.platform.mail import create_mailer
from aibos.platform.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Singleton(create_engine, settings)
    session_factory = providers.Singleton(create_session_factory, engine)
    writer_engine = providers.Singleton(create_writer_engine, settings, engine)
    driver = providers.Singleton(
        DriverConnections,
        engine,
        writers=settings.provided.db_hot_writers,
        writer_engine=writer_engine,
    )
    cache = providers.Singleton(create_cache, settings)
    events = providers.Singleton(EventBus)
    mailer = providers.Singleton(create_mailer, settings)

    health = providers.Container(HealthContainer, settings=settings, engine=engine, cache=cache)
    users = providers.Container(
        UsersContainer,
        engine=engine,
        driver=driver,
        session_factory=session_factory,
        events=events,
    )
    auth = providers.Container(
        AuthContainer,
        settings=settings,
        engine=engine,
        driver=driver,
        session_factory=session_factory,
        cache=cache,
        mailer=mailer,
        directory=users.directory,
    )
    ledger = providers.Container(LedgerContainer, settings=settings, engine=engine, driver=driver)


def build_container(settings: Settings) -> Container:
    """The root container, with every module's event handlers subscribed."""
    container = Container(settings=settings)
    # Each needs the other: auth reads users through their directory, and users asks auth to
    # check a password before someone changes their own email.
    container.users.password_check.override(container.auth.confirmation)
    container.auth.links().subscribe(container.events())
    container.ledger.actors().subscribe(container.events())
    return container


def load_all_models() -> None:
    """Import every module's models so that their tables join the shared metadata."""
    importlib.import_module("aibos.platform.idempotency")
    for module in pkgutil.iter_modules(aibos.modules.__path__):
        try:
            importlib.import_module(f"aibos.modules.{module.name}.models")
        except ModuleNotFoundError as error:
            if error.name != f"aibos.modules.{module.name}.models":
                raise
