from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from sqlalchemy import BindParameter, ScalarSelect, Subquery
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from aibos.modules.users import repository
from aibos.modules.users.api import (
    ADMIN_ROLE,
    DEFAULT_ROLE,
    MANAGE_USERS,
    READ_USERS,
    PasswordCheck,
    UserCreated,
    UserDeactivated,
    UserDeleting,
    UserErased,
    UserIdentity,
    UserRolesChanged,
)
from aibos.modules.users.email_change import confirmed, email_change
from aibos.modules.users.exceptions import (
    CurrentPasswordRequired,
    EmailTaken,
    FieldNotAllowed,
    LastAdministrator,
    NotYourRecord,
    UnknownRole,
    UsernameTaken,
    UserNotFound,
)
from aibos.modules.users.schemas import (
    RolePublic,
    UserCreate,
    UserFilters,
    UserPublic,
    UserReplace,
    UsersPublic,
)
from aibos.platform.db import Connection, DriverConnections, for_reading, unit_of_work, utcnow
from aibos.platform.events import EventBus
from aibos.platform.security import Principal

ROLE_CACHE_SECONDS = 1.0
ERASED_NAME = "Erased user"


class RoleBook:
    """The role table, re-read at most once a second per process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = for_reading(engine)
        self._roles: dict[str, RolePublic] = {}
        self._permissions: dict[frozenset[str], frozenset[str]] = {}
        self._read_at = float("-inf")

    async def all(self) -> dict[str, RolePublic]:
        if time.monotonic() - self._read_at > ROLE_CACHE_SECONDS:
            async with self._reader.connect() as connection:
                rows = await repository.all_roles(connection)
            self._roles = {row.name: RolePublic(**row._mapping) for row in rows}
            self._permissions = {}
            self._read_at = time.monotonic()
        return self._roles

    async def permissions_of(self, roles: Iterable[str]) -> frozenset[str]:
        known = await self.all()
        held = frozenset(roles)
        permissions = self._permissions.get(held)
        if permissions is None:
            permissions = frozenset(
                p for role in held if role in known for p in known[role].permissions
            )
            self._permissions[held] = permissions
        return permissions

    async def check_known(self, roles: Iterable[str]) -> None:
        unknown = sorted(set(roles) - set(await self.all()))
        if unknown:
            raise UnknownRole(f"Unknown role: {', '.join(unknown)}.")


class UserService:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        driver: DriverConnections,
        session_factory: async_sessionmaker[AsyncSession],
        events: EventBus,
        roles: RoleBook,
        password_check: PasswordCheck,
    ) -> None:
        self._engine = engine
        self._password_check = password_check
        self._reader = for_reading(engine)
        self._driver = driver
        self._session_factory = session_factory
        self._events = events
        self._roles = roles

    async def me(self, actor: Principal) -> UserPublic:
        async with self._driver.connect() as connection:
            row = await repository.user_by_id(connection, actor.user_id)
        if row is None:
            raise UserNotFound()
        return UserPublic(**row._mapping, roles=sorted(actor.roles))

    async def get(self, actor: Principal, user_id: uuid.UUID) -> UserPublic:
        _may_touch(actor, user_id, READ_USERS)
        async with self._reader.connect() as connection:
            return await _public(connection, user_id)

    async def find(self, filters: UserFilters) -> UsersPublic:
        async with self._reader.connect() as connection:
            rows, count = await repository.find_users(connection, filters)
            roles = await repository.roles_of(connection, [row.id for row in rows])
        users = [UserPublic(**row._mapping, roles=roles[row.id]) for row in rows]
        return UsersPublic(data=users, count=count)

    async def roles(self) -> list[RolePublic]:
        return list((await self._roles.all()).values())

    async def create(self, data: UserCreate) -> UserPublic:
        await self._roles.check_known(data.roles)
        async with unit_of_work(self._session_factory) as session:
            fields = data.model_dump(exclude={"roles"})
            user_id = await _insert(session, fields, data.roles)
            await self._events.publish(
                session,
                UserCreated(user_id=user_id, email=data.email, invited=True, email_verified=False),
            )
            return await _public(session, user_id)

    async def update(
        self, actor: Principal, user_id: uuid.UUID, changes: dict[str, Any]
    ) -> UserPublic:
        _may_touch(actor, user_id, MANAGE_USERS)
        if "email_verified" in changes and not actor.can(MANAGE_USERS):
            raise FieldNotAllowed("Only an administrator may set email_verified.")
        own = actor.user_id == user_id
        await self._confirm_own_email_change(own, user_id, changes)
        async with unit_of_work(self._session_factory) as session:
            await self._apply(session, user_id, changes, own=own)
            return await _public(session, user_id)

    async def replace(self, actor: Principal, user_id: uuid.UUID, data: UserReplace) -> UserPublic:
        changes, own = data.model_dump(), actor.user_id == user_id
        await self._confirm_own_email_change(own, user_id, changes)
        async with unit_of_work(self._session_factory) as session:
            await self._apply(session, user_id, changes, own=own)
            return await _public(session, user_id)

    async def _confirm_own_email_change(
        self, own: bool, user_id: uuid.UUID, changes: dict[str, Any]
    ) -> None:
        """A new email of your own needs your password: a stolen access token is not enough."""
        password = changes.pop("current_password", None)
        if not own or changes.get("email") is None:
            return
        async with self._reader.connect() as connection:
            row = await repository.user_by_id(connection, user_id)
        if row is None or row.email == changes["email"]:
            return
        if password is None:
            raise CurrentPasswordRequired("Send current_password with the new email.")
        await self._password_check.confirm(user_id, password)

    async def assign_roles(self, user_id: uuid.UUID, roles: list[str]) -> UserPublic:
        await self._roles.check_known(roles)
        async with unit_of_work(self._session_factory) as session:
            current = await _existing(session, user_id)
            if ADMIN_ROLE not in roles:
                await _keep_an_admin(session, current)
            await repository.replace_roles(session, user_id, roles)
            await repository.update_user(session, user_id, {"updated_at": utcnow()})
            await self._events.publish(session, UserRolesChanged(user_id=user_id))
            return await _public(session, user_id)

    async def set_active(self, user_id: uuid.UUID, *, active: bool) -> UserPublic:
        async with unit_of_work(self._session_factory) as session:
            current = await _existing(session, user_id)
            if not active:
                await _keep_an_admin(session, current)
            await repository.update_user(
                session, user_id, {"is_active": active, "updated_at": utcnow()}
            )
            if not active:
                await self._events.publish(session, UserDeactivated(user_id=user_id))
            return await _public(session, user_id)

    async def delete(self, user_id: uuid.UUID) -> None:
        async with unit_of_work(self._session_factory) as session:
            await _keep_an_admin(session, await _existing(session, user_id))
            await self._events.publish(session, UserDeleting(user_id=user_id))
            await repository.delete_user(session, user_id)

    async def erase(self, user_id: uuid.UUID) -> UserPublic:
        """Blank the personal fields and deactivate, keeping the row every record names."""
        async with unit_of_work(self._session_factory) as session:
            await _keep_an_admin(session, await _existing(session, user_id))
            erased = {
                "full_name": ERASED_NAME,
                "email": f"erased-{user_id.hex}@erased.invalid",  # RFC 2606: never delivered
                "username": None,
                "pending_email": None,
                "is_active": False,
                "email_verified": False,
                "updated_at": utcnow(),
            }
            await repository.update_user(session, user_id, erased)
            await self._events.publish(session, UserErased(user_id=user_id))
            return await _public(session, user_id)

    async def _apply(
        self, session: AsyncSession, user_id: uuid.UUID, changes: dict[str, Any], *, own: bool
    ) -> None:
        current = await _existing(session, user_id)
        new_email: str | None = changes.pop("email", None)
        event = None
        if new_email is not None:
            email_values, event = await email_change(session, current, new_email, own=own)
            changes = {**email_values, **changes}  # an administrator's email_verified wins
        try:
            async with session.begin_nested():
                await repository.update_user(session, user_id, {**changes, "updated_at": utcnow()})
        except IntegrityError as error:
            _raise_taken(error)
        if event is not None:
            await self._events.publish(session, event)


class Directory:
    """The users module's side of users.api.UserDirectory, for other modules."""

    def __init__(self, *, events: EventBus, roles: RoleBook) -> None:
        self._events = events
        self._roles = roles

    async def find_by_email(
        self, executor: AsyncSession | AsyncConnection | Connection, email: str
    ) -> UserIdentity | None:
        return _identity(await repository.identity_by_email(executor, email))

    async def get(
        self, executor: AsyncSession | AsyncConnection | Connection, user_id: uuid.UUID
    ) -> UserIdentity | None:
        return _identity(await repository.identity_by_id(executor, user_id))

    def id_by_email(self, email: BindParameter[str]) -> ScalarSelect[uuid.UUID]:
        return repository.id_by_email(email)

    def identity_rows(self) -> Subquery:
        return repository.IDENTITY_ROWS

    def identity_of(self, rows: Sequence[Any]) -> UserIdentity | None:
        return _identity(rows)

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
        roles = list(roles)
        await self._roles.check_known(roles)
        fields = {"email": email.lower(), "full_name": full_name, "email_verified": email_verified}
        user_id = await _insert(session, fields, roles)
        await self._events.publish(
            session,
            UserCreated(
                user_id=user_id,
                email=email.lower(),
                invited=invited,
                email_verified=email_verified,
            ),
        )
        identity = await self.get(session, user_id)
        assert identity is not None
        return identity

    async def make_active_admin(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        await _existing(session, user_id)
        await repository.add_role(session, user_id, ADMIN_ROLE)
        await repository.update_user(session, user_id, {"is_active": True, "updated_at": utcnow()})

    async def confirm_email(self, session: AsyncSession, *, user_id: uuid.UUID, email: str) -> bool:
        await repository.lock_user(session, user_id)
        row = await repository.user_by_id(session, user_id)
        values = confirmed(row, email) if row is not None else None
        if values is None:
            return False
        try:
            async with session.begin_nested():
                await repository.update_user(session, user_id, {**values, "updated_at": utcnow()})
        except IntegrityError:
            return False  # another account took the pending address meanwhile
        return True

    async def permissions_of(self, roles: Iterable[str]) -> frozenset[str]:
        return await self._roles.permissions_of(roles)


def _may_touch(actor: Principal, user_id: uuid.UUID, permission: str) -> None:
    if actor.user_id != user_id and not actor.can(permission):
        raise NotYourRecord()


async def _existing(session: AsyncSession, user_id: uuid.UUID) -> UserIdentity:
    """The user, read after locking their row: writes to one user take turns."""
    if not await repository.lock_user(session, user_id):
        raise UserNotFound()
    identity = _identity(await repository.identity_by_id(session, user_id))
    assert identity is not None
    return identity


def _identity(rows: Sequence[Any]) -> UserIdentity | None:
    """The user of rows of repository.identity_by_* or IDENTITY_ROWS: one per role held."""
    if not rows:
        return None
    user = rows[0]
    return UserIdentity(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_active=user.is_active,
        email_verified=user.email_verified,
        roles=frozenset(row.role_name for row in rows if row.role_name is not None),
    )


async def _public(executor: AsyncSession | AsyncConnection, user_id: uuid.UUID) -> UserPublic:
    row = await repository.user_by_id(executor, user_id)
    if row is None:
        raise UserNotFound()
    roles = await repository.roles_of(executor, [user_id])
    return UserPublic(**row._mapping, roles=roles[user_id])


async def _insert(session: AsyncSession, fields: dict[str, Any], roles: Iterable[str]) -> uuid.UUID:
    try:
        async with session.begin_nested():
            user_id = await repository.insert_user(session, fields)
            await repository.replace_roles(session, user_id, roles)
    except IntegrityError as error:
        _raise_taken(error)
    return user_id


def _raise_taken(error: IntegrityError) -> NoReturn:
    """A unique column collided under a concurrent write: say which one."""
    message = str(error.orig)
    if "username" in message:
        raise UsernameTaken() from error
    if "email" in message:
        raise EmailTaken() from error
    raise error


async def _keep_an_admin(session: AsyncSession, user: UserIdentity) -> None:
    """Refuse a change that would leave no active administrator."""
    if ADMIN_ROLE not in user.roles or not user.is_active:
        return
    await repository.lock_admin_role(session)
    if await repository.count_active_admins(session) <= 1:  # this user alone
        raise LastAdministrator("Make another user an active administrator first.")
