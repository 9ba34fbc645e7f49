"""Single-use links sent by mail: verify an email, reset a password, accept an invitation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aibos.modules.auth import repository
from aibos.modules.auth.exceptions import InvalidActionToken
from aibos.modules.auth.models import ActionToken
from aibos.modules.auth.notices import Notices
from aibos.modules.auth.passwords import Passwords, check_policy
from aibos.modules.auth.tokens import digest, new_opaque_token
from aibos.modules.users.api import (
    UserCreated,
    UserDeactivated,
    UserDeleting,
    UserDirectory,
    UserEmailChanged,
    UserEmailChangeRequested,
    UserErased,
    UserRolesChanged,
)
from aibos.platform.db import unit_of_work, utcnow
from aibos.platform.events import EventBus
from aibos.platform.mail import Mail
from aibos.platform.ratelimit import RateLimiter
from aibos.platform.settings import Settings

VERIFY, RESET, INVITE = "verify_email", "reset_password", "invitation"
_MESSAGES = {
    VERIFY: (
        "Confirm your email address",
        "Confirm this address for your AIBOS account",
        "verify-email",
    ),
    RESET: ("Reset your password", "Someone asked to reset your AIBOS password", "reset-password"),
    INVITE: (
        "You have an AIBOS account",
        "An administrator made you an AIBOS account",
        "reset-password",
    ),
}


class MailedLinks:
    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        directory: UserDirectory,
        passwords: Passwords,
        limiter: RateLimiter,
        notices: Notices,
    ) -> None:
        self._settings = settings
        self._session_factory = session_factory
        self._directory = directory
        self._passwords = passwords
        self._limiter = limiter
        self._notices = notices
        self._lifetimes = {
            VERIFY: timedelta(hours=settings.verification_token_hours),
            RESET: timedelta(minutes=settings.reset_token_minutes),
            INVITE: timedelta(hours=settings.verification_token_hours),
        }

    def subscribe(self, events: EventBus) -> None:
        events.subscribe(UserCreated, self._on_user_created)
        events.subscribe(UserEmailChanged, self._on_email_changed)
        events.subscribe(UserEmailChangeRequested, self._on_email_change_requested)
        events.subscribe(UserDeactivated, self._on_user_deactivated)
        events.subscribe(UserDeleting, self._on_user_deleting)
        events.subscribe(UserErased, self._on_user_erased)
        events.subscribe(UserRolesChanged, self._on_roles_changed)

    async def request_reset(self, *, email: str, address: str | None) -> None:
        """Answers the same whether or not the account exists; only an existing one gets mail."""
        await self._limiter.hit_each(
            [
                ("reset-address", address or "-", self._settings.rate_limit_reset_per_address),
                ("reset-account", email.lower(), self._settings.rate_limit_reset_per_account),
            ]
        )
        async with unit_of_work(self._session_factory) as session:
            user = await self._directory.find_by_email(session, email)
            if user is not None and user.is_active:
                await self._send(session, RESET, user.id, user.email)

    async def reset_password(self, *, token: str, new_password: str) -> None:
        async with unit_of_work(self._session_factory) as session:
            spent = await repository.use_action_token(
                session, digest(token), (RESET, INVITE), utcnow()
            )
            if spent is None:
                raise InvalidActionToken()
            owner = await self._directory.get(session, spent.user_id)
            if owner is None or owner.email != spent.email:
                raise InvalidActionToken()  # mailed to an address the account has since left
            check_policy(new_password, settings=self._settings, email=spent.email)
            password_hash = await self._passwords.hash(new_password)
            await repository.replace_password(session, spent.user_id, password_hash, utcnow())
            # The link reached this mailbox, which proves the address as well.
            await self._directory.confirm_email(session, user_id=spent.user_id, email=spent.email)

    async def verify_email(self, *, token: str) -> None:
        async with unit_of_work(self._session_factory) as session:
            spent = await repository.use_action_token(session, digest(token), (VERIFY,), utcnow())
            if spent is None or not await self._directory.confirm_email(
                session, user_id=spent.user_id, email=spent.email
            ):
                raise InvalidActionToken()

    async def resend_verification(self, user_id: uuid.UUID) -> None:
        async with unit_of_work(self._session_factory) as session:
            user = await self._directory.get(session, user_id)
            if user is not None and not user.email_verified:
                await self._send(session, VERIFY, user.id, user.email)

    async def _on_user_created(self, event: UserCreated, session: AsyncSession) -> None:
        await repository.add_credential(session, event.user_id)
        if event.invited:
            await self._send(session, INVITE, event.user_id, event.email)
        elif not event.email_verified:
            await self._send(session, VERIFY, event.user_id, event.email)

    async def _on_email_changed(self, event: UserEmailChanged, session: AsyncSession) -> None:
        self._notices.email_changed(session, old=event.previous_email, new=event.email)
        await self._send(session, VERIFY, event.user_id, event.email)

    async def _on_email_change_requested(
        self, event: UserEmailChangeRequested, session: AsyncSession
    ) -> None:
        self._notices.email_change_requested(session, old=event.email, new=event.pending_email)
        await self._send(session, VERIFY, event.user_id, event.pending_email)

    async def _on_user_deactivated(self, event: UserDeactivated, session: AsyncSession) -> None:
        await repository.wait_for_sign_ins(session, event.user_id)
        now = utcnow()
        # Moving the cut-off also stops a sign-in that read the user before this change.
        await repository.update_credential(session, event.user_id, tokens_valid_after=now)
        await repository.revoke_sessions(session, now, user_id=event.user_id)

    async def _on_user_deleting(self, event: UserDeleting, session: AsyncSession) -> None:
        # The deletion reaches the user's sessions and tokens only after the sign-ins and
        # refreshes that hold the credential row have finished with them.
        await repository.wait_for_sign_ins(session, event.user_id)

    async def _on_user_erased(self, event: UserErased, session: AsyncSession) -> None:
        await repository.wait_for_sign_ins(session, event.user_id)
        await repository.forget_user(session, event.user_id, utcnow())

    async def _on_roles_changed(self, event: UserRolesChanged, session: AsyncSession) -> None:
        # Tokens carry roles: those issued before the change stop working; refreshing gets new
        # ones. The cut-off is taken once the sign-ins reading the old roles have finished.
        await repository.wait_for_sign_ins(session, event.user_id)
        await repository.update_credential(session, event.user_id, tokens_valid_after=utcnow())

    async def _send(
        self, session: AsyncSession, purpose: str, user_id: uuid.UUID, email: str
    ) -> None:
        token, token_hash = new_opaque_token()
        now = utcnow()
        await repository.add_action_token(
            session,
            ActionToken(
                token_hash=token_hash,
                user_id=user_id,
                purpose=purpose,
                email=email,
                created_at=now,
                expires_at=now + self._lifetimes[purpose],
            ),
        )
        subject, opening, page = _MESSAGES[purpose]
        link = f"{self._settings.public_url}/{page}?token={token}"
        mail = Mail(to=email, subject=subject, body=f"{opening}:\n\n{link}\n\nToken: {token}\n")
        self._notices.send(session, mail)
