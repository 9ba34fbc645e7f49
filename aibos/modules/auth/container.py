from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from aibos.modules.auth.authenticator import TokenAuthenticator
from aibos.modules.auth.confirmation import PasswordConfirmation
from aibos.modules.auth.links import MailedLinks
from aibos.modules.auth.notices import Notices
from aibos.modules.auth.passwords import Passwords
from aibos.modules.auth.service import AuthService
from aibos.modules.auth.tokens import KeyRing
from aibos.platform.cache import Cache
from aibos.platform.db import DriverConnections
from aibos.platform.ratelimit import RateLimiter
from aibos.platform.settings import Settings


class AuthContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Dependency(instance_of=AsyncEngine)
    driver = providers.Dependency(instance_of=DriverConnections)
    session_factory = providers.Dependency(instance_of=async_sessionmaker)
    cache = providers.Dependency(instance_of=Cache)
    mailer = providers.Dependency(instance_of=object)  # platform.mail.Mailer
    directory = providers.Dependency(instance_of=object)  # users.api.UserDirectory

    keys = providers.Singleton(KeyRing, settings)
    passwords = providers.Singleton(Passwords, settings)
    limiter = providers.Singleton(RateLimiter, cache)
    notices = providers.Singleton(Notices, settings=settings, mailer=mailer)
    confirmation = providers.Singleton(
        PasswordConfirmation,
        settings=settings,
        session_factory=session_factory,
        directory=directory,
        passwords=passwords,
        limiter=limiter,
    )
    authenticator = providers.Singleton(
        TokenAuthenticator,
        engine=engine,
        keys=keys,
        directory=directory,
        cache_seconds=settings.provided.revocation_cache_seconds,
    )
    service = providers.Singleton(
        AuthService,
        settings=settings,
        driver=driver,
        session_factory=session_factory,
        directory=directory,
        passwords=passwords,
        keys=keys,
        limiter=limiter,
        notices=notices,
        confirmation=confirmation,
    )
    links = providers.Singleton(
        MailedLinks,
        settings=settings,
        session_factory=session_factory,
        directory=directory,
        passwords=passwords,
        limiter=limiter,
        notices=notices,
    )
