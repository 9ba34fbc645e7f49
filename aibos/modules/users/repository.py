from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ScalarSelect,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aibos.modules.users.api import ADMIN_ROLE
from aibos.modules.users.models import Role, User, UserRole
from aibos.modules.users.schemas import UserFilters, UserSort
from aibos.platform.db import (
    Connection,
    Record,
    affected_rows,
    contains_text,
    insert_or_update,
    prebuilt,
    table_of,
)

Executor = AsyncSession | AsyncConnection | Connection
users = table_of(User)
user_roles = table_of(UserRole)
roles = table_of(Role)

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.pending_email,
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
_USER_BY_ID = prebuilt(select(*USER_COLUMNS).where(users.c.id == bindparam("id")))
# NO KEY UPDATE, not UPDATE: a foreign key to the row (a sign-in's session, a user's role) takes
# KEY SHARE on it, which UPDATE would block and NO KEY UPDATE lets through.
_LOCK_USER = prebuilt(
    select(users.c.id).where(users.c.id == bindparam("id")).with_for_update(key_share=True)
)
_LOCK_ADMIN_ROLE = prebuilt(
    select(roles.c.name).where(roles.c.name == ADMIN_ROLE).with_for_update(key_share=True)
)
_ACTIVE_ADMINS = prebuilt(
    select(func.count())
    .select_from(users.join(user_roles, user_roles.c.user_id == users.c.id))
    .where(user_roles.c.role_name == ADMIN_ROLE, users.c.is_active.is_(True))
)
_IDENTITY = select(
    users.c.id,
    users.c.email,
    users.c.full_name,
    users.c.is_active,
    users.c.email_verified,
    user_roles.c.role_name,
).select_from(users.outerjoin(user_roles, user_roles.c.user_id == users.c.id))
IDENTITY_ROWS = _IDENTITY.subquery("identity")
_IDENTITY_BY_ID = prebuilt(_IDENTITY.where(users.c.id == bindparam("id")))
_IDENTITY_BY_EMAIL = prebuilt(_IDENTITY.where(users.c.email == bindparam("email")))


async def user_by_id(executor: Executor, user_id: uuid.UUID) -> Record | None:
    return (await executor.execute(_USER_BY_ID, {"id": user_id})).first()


async def identity_by_id(executor: Executor, user_id: uuid.UUID) -> list[Record]:
    """The user's row with each role they hold, in one round trip (`role_name` None if none)."""
    return list(await executor.execute(_IDENTITY_BY_ID, {"id": user_id}))


async def identity_by_email(executor: Executor, email: str) -> list[Record]:
    """As identity_by_id, found by email (stored lower case)."""
    return list(await executor.execute(_IDENTITY_BY_EMAIL, {"email": email.lower()}))


async def email_in_use(executor: Executor, email: str) -> bool:
    found = await executor.execute(select(users.c.id).where(users.c.email == email.lower()))
    return found.first() is not None


def id_by_email(email: BindParameter[str]) -> ScalarSelect[uuid.UUID]:
    return select(users.c.id).where(users.c.email == email).scalar_subquery()


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
    statement = insert_or_update(session.get_bind().dialect.name, user_roles)
    values = {"user_id": user_id, "role_name": role}
    await session.execute(statement.values(**values).on_conflict_do_nothing())


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Hold the user's row until the transaction ends (PostgreSQL); False if there is none."""
    return (await session.execute(_LOCK_USER, {"id": user_id})).first() is not None


async def lock_admin_role(session: AsyncSession) -> None:
    """Removals of administrators take turns here, so each counts those the last one left."""
    await session.execute(_LOCK_ADMIN_ROLE)


async def count_active_admins(session: AsyncSession) -> int:
    return int(await session.scalar(_ACTIVE_ADMINS) or 0)


async def all_roles(executor: Executor) -> list[Record]:
    query = select(roles.c.name, roles.c.description, roles.c.permissions).order_by(roles.c.name)
    return list(await executor.execute(query))
