from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from aibos.modules.users.service import Directory, RoleBook, UserService
from aibos.platform.db import DriverConnections
from aibos.platform.events import EventBus


class UsersContainer(containers.DeclarativeContainer):
    engine = providers.Dependency(instance_of=AsyncEngine)
    driver = providers.Dependency(instance_of=DriverConnections)
    session_factory = providers.Dependency(instance_of=async_sessionmaker)
    events = providers.Dependency(instance_of=EventBus)
    password_check = providers.Dependency(instance_of=object)  # users.api.PasswordCheck, by auth

    roles = providers.Singleton(RoleBook, engine=engine)
    service = providers.Singleton(
        UserService,
        engine=engine,
        driver=driver,
        session_factory=session_factory,
        events=events,
        roles=roles,
        password_check=password_check,
    )
    directory = providers.Singleton(Directory, events=events, roles=roles)
