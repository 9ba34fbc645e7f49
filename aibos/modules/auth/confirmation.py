"""Checking a signed-in person's current password before a sensitive change."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aibos.modules.auth import repository
from aibos.modules.auth.exceptions import WrongPassword
from aibos.modules.auth.passwords import Passwords
from aibos.modules.users.api import UserDirectory, UserIdentity
from aibos.platform.ratelimit import RateLimiter
from aibos.platform.settings import Settings


class PasswordConfirmation:
    """users.api.PasswordCheck: guesses count against the account as sign-ins do, so a stolen
    access token is no way around the login limit."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        directory: UserDirectory,
        passwords: Passwords,
        limiter: RateLimiter,
    ) -> None:
        self._limit = settings.rate_limit_login_per_account
        self._session_factory = session_factory
        self._directory = directory
        self._passwords = passwords
        self._limiter = limiter

    async def confirm(self, user_id: uuid.UUID, password: str) -> None:
        await self.confirmed_user(user_id, password)

    async def confirmed_user(self, user_id: uuid.UUID, password: str) -> UserIdentity:
        """The user, once `password` is shown to be theirs; WrongPassword otherwise."""
        async with self._session_factory() as session:
            stored = await repository.password_hash(session, user_id)
            user = await self._directory.get(session, user_id)
        if stored is None or user is None:
            raise WrongPassword()
        account = ("login-account", user.email.lower())
        await self._limiter.hit(*account, self._limit)
        if not await self._passwords.verify(stored, password):
            raise WrongPassword()
        self._limiter.give_back(*account)
        return user
