"""The users module's public door: what other modules may know of users."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import BindParameter, ScalarSelect, Subquery
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aibos.platform.db import Connection

ADMIN_ROLE = "admin"
DEFAULT_ROLE = "member"

READ_USERS = "users:read"
MANAGE_USERS = "users:manage"


@dataclass(frozen=True, slots=True)
class UserIdentity:
    id: uuid.UUID
    email: str
    full_name: str
    is_active: bool
    email_verified: bool
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class UserCreated:
    user_id: uuid.UUID
    email: str
    invited: bool  # created by an administrator: the person still has to choose a password
    email_verified: bool


@dataclass(frozen=True, slots=True)
class UserEmailChanged:
    """An administrator set another user's email: it applies at once."""

    user_id: uuid.UUID
    email: str
    previous_email: str


@dataclass(frozen=True, slots=True)
class UserEmailChangeRequested:
    """A user asked for a new email: it waits in pending_email until confirmed from that box."""

    user_id: uuid.UUID
    email: str  # the address in use, which is told
    pending_email: str


@dataclass(frozen=True, slots=True)
class UserDeactivated:
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class UserRolesChanged:
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class UserErased:
    """The user's personal fields were blanked and the account deactivated; the row stays."""

    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class UserDeleting:
    """Published just before the user's row is deleted, in the same transaction: what refers to
    it goes with it (foreign keys cascade), so subscribers wait for their own writers, or raise
    to refuse the deletion (the ledger does for anyone it names)."""

    user_id: uuid.UUID


class UserDirectory(Protocol):
    async def find_by_email(
        self, executor: AsyncSession | AsyncConnection | Connection, email: str
    ) -> UserIdentity | None:
        """The user with this email, compared case-insensitively."""
        ...

    async def get(
        self, executor: AsyncSession | AsyncConnection | Connection, user_id: uuid.UUID
    ) -> UserIdentity | None: ...

    def id_by_email(self, email: BindParameter[str]) -> ScalarSelect[uuid.UUID]:
        """The id of the user whose email `email` is bound to (in lower case), as a subquery of
        another module's statement: one round trip where reading the user first takes two."""
        ...

    def identity_rows(self) -> Subquery:
        """Each user's row once per role held (`id`, `email`, `full_name`, `is_active`,
        `email_verified`, `role_name`), for another module's statement to join its own rows to:
        the user read in the same round trip and snapshot. `identity_of` reads the result."""
        ...

    def identity_of(self, rows: Sequence[Any]) -> UserIdentity | None:
        """The user of rows read through `identity_rows`; None for no rows."""
        ...

    async def create(
        self,
        session: AsyncSession,
        *,
        email: str,
        full_name: str,
        roles: Iterable[str] = (DEFAULT_ROLE,),
        email_verified: bool = False,
        invited: bool = False,
    ) -> UserIdentity:
        """Create a user; raises EmailTaken."""
        ...

    async def make_active_admin(self, session: AsyncSession, user_id: uuid.UUID) -> None: ...

    async def confirm_email(self, session: AsyncSession, *, user_id: uuid.UUID, email: str) -> bool:
        """Mark the email verified if it is still the user's email; if it is their pending
        email, it becomes their email. False if it is neither (or another account took it)."""
        ...

    async def permissions_of(self, roles: Iterable[str]) -> frozenset[str]:
        """Every permission the roles grant, from the role table."""
        ...


class PasswordCheck(Protocol):
    async def confirm(self, user_id: uuid.UUID, password: str) -> None:
        """Raise unless this is the user's current password; a wrong one counts as a sign-in
        guess against the account."""
        ...
