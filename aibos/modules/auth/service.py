from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aibos.modules.auth import repository
from aibos.modules.auth.confirmation import PasswordConfirmation
from aibos.modules.auth.exceptions import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidToken,
    RefreshTokenRaced,
    RefreshTokenReused,
    RegistrationClosed,
    SessionNotFound,
)
from aibos.modules.auth.notices import Notices
from aibos.modules.auth.passwords import Passwords, check_policy
from aibos.modules.auth.schemas import SessionPublic, TokenPair
from aibos.modules.auth.tokens import KeyRing, digest, new_opaque_token
from aibos.modules.users.api import UserDirectory, UserIdentity
from aibos.platform.db import DriverConnections, Record, unit_of_work, utcnow
from aibos.platform.errors import Conflict, InvalidInput, Unavailable
from aibos.platform.ratelimit import RateLimiter
from aibos.platform.security import Principal
from aibos.platform.settings import Settings

SIGN_IN_ATTEMPTS = 3  # a role change or deactivation during a sign-in makes it start over


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request comes from, as the session list shows it."""

    address: str | None
    user_agent: str


class AuthService:
    def __init__(
        self,
        *,
        settings: Settings,
        driver: DriverConnections,
        session_factory: async_sessionmaker[AsyncSession],
        directory: UserDirectory,
        passwords: Passwords,
        keys: KeyRing,
        limiter: RateLimiter,
        notices: Notices,
        confirmation: PasswordConfirmation,
    ) -> None:
        self._settings = settings
        self._driver = driver
        self._session_factory = session_factory
        self._directory = directory
        self._passwords = passwords
        self._keys = keys
        self._limiter = limiter
        self._notices = notices
        self._confirmation = confirmation
        self._refresh_lifetime = timedelta(days=settings.refresh_token_days)
        self._race = timedelta(seconds=settings.refresh_race_seconds)
        identity = directory.identity_rows()
        self._sign_in_by_email = repository.sign_in_read(
            directory.id_by_email(bindparam("email")), identity
        )
        self._sign_in_by_id = repository.sign_in_read(repository.CREDENTIAL_OWNER, identity)

    async def register(self, *, email: str, password: str, full_name: str, client: Client) -> None:
        """Sign up; an address that has an account gets the same answer, and its owner a mail."""
        settings = self._settings
        if not settings.registration_enabled:
            raise RegistrationClosed()
        address = client.address or "-"
        await self._limiter.hit_each(
            [
                ("register-address", address, settings.rate_limit_register_per_address),
                ("register-account", email.lower(), settings.rate_limit_register_per_account),
            ]
        )
        check_policy(password, settings=settings, email=email)
        password_hash = await self._passwords.hash(password)  # either way: timing tells nothing
        async with unit_of_work(self._session_factory) as session:
            try:
                user = await self._directory.create(session, email=email, full_name=full_name)
            except Conflict:  # the email is taken (the only unique field given)
                self._notices.sign_up_attempted(session, email.lower())
                return
            await repository.update_credential(
                session, user.id, password_hash=password_hash, password_changed_at=utcnow()
            )

    async def login(self, *, email: str, password: str, client: Client) -> TokenPair:
        settings = self._settings
        # Every attempt counts against the account up front, so guesses sent side by side are
        # limited too; a right password gives its attempt back: signing in often never locks.
        account = ("login-account", email.lower())
        await self._limiter.hit_each(
            [
                ("login-address", client.address or "-", settings.rate_limit_login_per_address),
                (*account, settings.rate_limit_login_per_account),
            ]
        )
        try:
            user, rows = await self._checked_sign_in(email, password)
        except InvalidCredentials:
            raise
        except Exception:
            self._limiter.give_back(*account)  # no password was judged: a fault is no guess
            raise
        self._limiter.give_back(*account)
        stored: str = rows[0].password_hash
        if self._passwords.needs_rehash(stored):
            rehashed = await self._passwords.hash(password)
            async with self._driver.begin() as connection:
                await repository.rehash(connection, user.id, checked=stored, rehashed=rehashed)
            stored = rehashed
        return await self._open_session(user, stored, rows[0].tokens_valid_after, client)

    async def _checked_sign_in(
        self, email: str, password: str
    ) -> tuple[UserIdentity, list[Record]]:
        """The user of `email` and its sign-in rows, if `password` is theirs."""
        async with self._driver.connect() as connection:
            rows = await repository.sign_in_rows(
                connection, self._sign_in_by_email, {"email": email.lower()}
            )
        user = self._directory.identity_of(rows)
        if user is None or rows[0].password_hash is None:
            await self._passwords.spend_a_verification(password)
            raise InvalidCredentials()
        if not await self._passwords.verify(rows[0].password_hash, password):
            raise InvalidCredentials()
        return user, rows

    async def refresh(self, *, refresh_token: str, client: Client) -> TokenPair:
        await self._limiter.hit(
            "refresh", client.address or "-", self._settings.rate_limit_refresh_per_address
        )
        token_hash, now = digest(refresh_token), utcnow()
        async with unit_of_work(self._session_factory) as session:
            owner = await repository.refresh_token_owner(session, token_hash)
            if owner is None:
                raise InvalidRefreshToken()
            # The credential row before the token's: a deletion or deactivation takes that row
            # first too, so neither ever waits for this refresh while it waits for them.
            await repository.hold_credential(session, owner.user_id)
            if await repository.use_refresh_token(session, token_hash, now):
                return await self._rotate(session, owner.session_id, owner.user_id, now)
            spent = await repository.spent_refresh_token(session, token_hash, now - self._race)
            if spent is None:
                raise InvalidRefreshToken()
            if spent.raced:
                raise RefreshTokenRaced()
            # A rotated token came back: whoever holds the family, it is no longer safe.
            await repository.revoke_sessions(session, now, session_id=spent.session_id)
        raise RefreshTokenReused()

    async def _rotate(
        self, session: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
    ) -> TokenPair:
        """Under the held credential row: a role change waits for this token to be issued, and
        its cut-off then falls after it."""
        if await repository.live_session(session, session_id, now) is None:
            raise InvalidRefreshToken()
        # Refused here, the token stays unspent: the transaction rolls back.
        limit = self._settings.rate_limit_refresh_per_account
        await self._limiter.hit("refresh-account", str(user_id), limit)
        user = await self._directory.get(session, user_id)
        if user is None or not user.is_active:
            raise InvalidRefreshToken()
        expires_at = now + self._refresh_lifetime
        await repository.touch_session(session, session_id, now=now, expires_at=expires_at)
        refresh_token, new_hash = new_opaque_token()
        await repository.add_refresh_token(
            session, token_hash=new_hash, session_id=session_id, now=now, expires_at=expires_at
        )
        return self._pair(user, session_id, refresh_token)

    async def _open_session(
        self, user: UserIdentity, verified_hash: str, valid_after: datetime, client: Client
    ) -> TokenPair:
        """The session is written only if the credential is as the sign-in read it, with the
        user, in one snapshot: a role change or deactivation since (each moves the credential's
        cut-off) makes the sign-in read both again, so no token carries roles older than its
        cut-off."""
        for _ in range(SIGN_IN_ATTEMPTS):
            if not user.is_active:
                raise AccountDisabled()
            now = utcnow()  # before the session is written: a cut-off after it falls later
            session_id, (refresh_token, token_hash) = uuid.uuid4(), new_opaque_token()
            opened = await repository.open_session(
                self._driver,
                user_id=user.id,
                password_hash=verified_hash,
                valid_after=valid_after,
                session_id=session_id,
                token_hash=token_hash,
                now=now,
                expires_at=now + self._refresh_lifetime,
                user_agent=client.user_agent[:300],
                ip_address=client.address,
            )
            if opened:
                return self._pair(user, session_id, refresh_token, issued_at=now)
            async with self._driver.connect() as connection:
                rows = await repository.sign_in_rows(
                    connection, self._sign_in_by_id, {"user_id": user.id}
                )
            again = self._directory.identity_of(rows)
            if again is None or rows[0].password_hash != verified_hash:
                raise InvalidCredentials()  # deleted, or the password changed meanwhile
            user, valid_after = again, rows[0].tokens_valid_after
        raise Unavailable("The account is changing; sign in again shortly.", retry_after=1)

    def _pair(
        self,
        user: UserIdentity,
        session_id: uuid.UUID,
        refresh_token: str,
        *,
        issued_at: datetime | None = None,
    ) -> TokenPair:
        """Issued before the credential row the roles were read under is let go: a role
        change's cut-off, taken once it holds that row, falls after every token with the old
        roles."""
        access_token = self._keys.issue(
            user_id=user.id, session_id=session_id, roles=user.roles, now=issued_at or utcnow()
        )
        return TokenPair(
            access_token=access_token,
            expires_in=self._keys.lifetime_seconds,
            refresh_token=refresh_token,
            refresh_expires_in=int(self._refresh_lifetime.total_seconds()),
            session_id=session_id,
        )

    async def logout(self, principal: Principal) -> None:
        async with unit_of_work(self._session_factory) as session:
            await repository.revoke_sessions(session, utcnow(), session_id=principal.session_id)

    async def revoke(self, token: str) -> None:
        """RFC 7009: end the session behind a refresh or access token; unknown tokens are fine."""
        session_id = await self._session_of(token)
        if session_id is not None:
            async with unit_of_work(self._session_factory) as session:
                await repository.revoke_sessions(session, utcnow(), session_id=session_id)

    async def _session_of(self, token: str) -> uuid.UUID | None:
        async with self._session_factory() as session:
            owner = await repository.refresh_token_owner(session, digest(token))
        if owner is not None:
            session_id: uuid.UUID = owner.session_id
            return session_id
        try:
            return self._keys.read(token).session_id
        except InvalidToken:
            return None

    async def sessions(self, principal: Principal) -> list[SessionPublic]:
        async with self._session_factory() as session:
            rows = await repository.live_sessions_of(session, principal.user_id, utcnow())
        return [
            SessionPublic(**row._mapping, current=row.id == principal.session_id) for row in rows
        ]

    async def end_session(self, principal: Principal, session_id: uuid.UUID) -> None:
        async with unit_of_work(self._session_factory) as session:
            state = await repository.session_state(session, session_id)
            if state is None or state.user_id != principal.user_id:
                raise SessionNotFound()
            await repository.revoke_sessions(session, utcnow(), session_id=session_id)

    async def change_password(self, principal: Principal, *, current: str, new: str) -> None:
        user = await self._confirmation.confirmed_user(principal.user_id, current)
        check_policy(new, settings=self._settings, email=user.email)
        await self._set_password(principal.user_id, await self._passwords.hash(new))

    async def _set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        async with unit_of_work(self._session_factory) as session:
            await repository.replace_password(session, user_id, password_hash, utcnow())

    async def create_admin(self, *, email: str, password: str | None, full_name: str) -> bool:
        """Make this person an active administrator; True if the account was created."""
        if password is not None:
            check_policy(password, settings=self._settings, email=email)
        password_hash = await self._passwords.hash(password) if password is not None else None
        async with unit_of_work(self._session_factory) as session:
            existing = await self._directory.find_by_email(session, email)
            if existing is not None:
                await self._directory.make_active_admin(session, existing.id)
                return False
            if password_hash is None:
                raise InvalidInput("A password is needed to create the first administrator.")
            user = await self._directory.create(
                session, email=email, full_name=full_name, roles=["admin"], email_verified=True
            )
            await repository.update_credential(
                session, user.id, password_hash=password_hash, password_changed_at=utcnow()
            )
            return True
