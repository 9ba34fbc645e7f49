from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from aibos.modules.users.api import ADMIN_ROLE
from aibos.modules.users.models import Role, User, UserRole
from aibos.modules.users.schemas import UserFilters, UserSort
from aibos.platform.db import Record, affected_rows, contains_text, for_reading, table_of

Executor = AsyncSession | AsyncConnection
users = table_of(User)
user_roles = table_of(UserRole)
roles = table_of(Role)

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.username,
    users.c.full_name,
    users.c.is_active,
    users.c.email_verified,
    users.c.created_at,
    users.c.updated_at,
)
_SORTS = {
    UserSort.EMAIL: users.c.email.asc(),
    UserSort.EMAIL_DESC: users.c.email.desc(),
    UserSort.NAME: users.c.full_name.asc(),
    UserSort.NAME_DESC: users.c.full_name.desc(),
    UserSort.CREATED: users.c.created_at.asc(),
    UserSort.CREATED_DESC: users.c.created_at.desc(),
}
_USER_BY_ID = select(*USER_COLUMNS).where(users.c.id == bindparam("id"))
_IDENTITY = select(
    users.c.id,
    users.c.email,
    users.c.full_name,
    users.c.is_active,
    users.c.email_verified,
    user_roles.c.role_name,
).select_from(users.outerjoin(user_roles, user_roles.c.user_id == users.c.id))
_IDENTITY_BY_ID = _IDENTITY.where(users.c.id == bindparam("id"))
_IDENTITY_BY_EMAIL = _IDENTITY.where(users.c.email == bindparam("email"))


async def user_by_id(executor: Executor, user_id: uuid.UUID) -> Record | None:
    return (await executor.execute(_USER_BY_ID, {"id": user_id})).first()


class ProfileReader:
    """A user's row by id, for GET /users/me, the busiest route.

    On asyncpg the statement, compiled once, goes straight to the driver on a pooled
    connection: SQLAlchemy's work per execution costs as much CPU as the rest of the request.
    Other drivers take the ordinary Core path.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = for_reading(engine)
        on_asyncpg = engine.dialect.driver == "asyncpg"
        self._sql = str(_USER_BY_ID.compile(dialect=engine.dialect)) if on_asyncpg else None

    async def user(self, user_id: uuid.UUID) -> Mapping[str, Any] | None:
        if self._sql is None:
            async with self._reader.connect() as connection:
                row = await user_by_id(connection, user_id)
            return None if row is None else dict(row._mapping)
        pooled = await self._engine.raw_connection()
        driver: Any = pooled.driver_connection  # an asyncpg.Connection
        try:
            found: Mapping[str, Any] | None = await driver.fetchrow(self._sql, user_id)
            return found
        except BaseException:
            pooled.invalidate()  # a query that failed or was cut short may leave it unusable
            raise
        finally:
            await greenlet_spawn(pooled.close)  # as AsyncConnection does: a checkin may await


async def identity_by_id(executor: Executor, user_id: uuid.UUID) -> list[Record]:
    """The user's row with each role they hold, in one round trip (`role_name` None if none)."""
    return list(await executor.execute(_IDENTITY_BY_ID, {"id": user_id}))


async def identity_by_email(executor: Executor, email: str) -> list[Record]:
    """As identity_by_id, found by email (stored lower case)."""
    return list(await executor.execute(_IDENTITY_BY_EMAIL, {"email": email.lower()}))


async def roles_of(executor: Executor, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    query = (
        select(user_roles.c.user_id, user_roles.c.role_name)
        .where(user_roles.c.user_id.in_(user_ids))
        .order_by(user_roles.c.role_name)
    )
    found: dict[uuid.UUID, list[str]] = {user_id: [] for user_id in user_ids}
    for user_id, role in await executor.execute(query):
        found[user_id].append(role)
    return found


async def find_users(executor: Executor, filters: UserFilters) -> tuple[list[Record], int]:
    conditions = []
    if filters.q:
        conditions.append(
            or_(
                contains_text(users.c.email, filters.q), contains_text(users.c.full_name, filters.q)
            )
        )
    if filters.role:
        holders = select(user_roles.c.user_id).where(user_roles.c.role_name == filters.role)
        conditions.append(users.c.id.in_(holders))
    if filters.is_active is not None:
        conditions.append(users.c.is_active == filters.is_active)
    count = await executor.scalar(select(func.count()).select_from(users).where(*conditions))
    page = (
        select(*USER_COLUMNS)
        .where(*conditions)
        .order_by(_SORTS[filters.sort], users.c.id)
        .limit(filters.size)
        .offset((filters.page - 1) * filters.size)
    )
    return list(await executor.execute(page)), int(count or 0)


async def insert_user(session: AsyncSession, values: Mapping[str, Any]) -> uuid.UUID:
    user = User(**values)
    await session.execute(insert(users).values(**user.model_dump()))
    return user.id


async def update_user(session: AsyncSession, user_id: uuid.UUID, values: Mapping[str, Any]) -> bool:
    result = await session.execute(update(users).where(users.c.id == user_id).values(**values))
    return bool(affected_rows(result))


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> bool:
    result = await session.execute(delete(users).where(users.c.id == user_id))
    return bool(affected_rows(result))


async def replace_roles(session: AsyncSession, user_id: uuid.UUID, roles: Iterable[str]) -> None:
    await session.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
    rows = [{"user_id": user_id, "role_name": role} for role in sorted(set(roles))]
    await session.execute(insert(user_roles), rows)


async def add_role(session: AsyncSession, user_id: uuid.UUID, role: str) -> None:
    held = await session.scalar(
        select(func.count()).where(user_roles.c.user_id == user_id, user_roles.c.role_name == role)
    )
    if not held:
        await session.execute(insert(user_roles).values(user_id=user_id, role_name=role))


async def lock_active_admins(session: AsyncSession) -> list[uuid.UUID]:
    """The active administrators, locked (on PostgreSQL) until the transaction ends."""
    query = (
        select(users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role_name == ADMIN_ROLE, users.c.is_active.is_(True))
        .with_for_update(of=users)
    )
    return list(await session.scalars(query))


async def all_roles(executor: Executor) -> list[Record]:
    query = select(roles.c.name, roles.c.description, roles.c.permissions).order_by(roles.c.name)
    return list(await executor.execute(query))
