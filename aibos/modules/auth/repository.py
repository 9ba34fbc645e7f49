from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    Uuid,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aibos.modules.auth.models import ActionToken, AuthSession, Credential, RefreshToken
from aibos.platform.db import (
    Connection,
    DriverConnections,
    Record,
    affected_rows,
    prebuilt,
    table_of,
)

Executor = AsyncSession | AsyncConnection | Connection
credentials = table_of(Credential)
sessions = table_of(AuthSession)
refresh_tokens = table_of(RefreshToken)
action_tokens = table_of(ActionToken)

_SESSION_STATE = (
    select(
        sessions.c.user_id,
        sessions.c.revoked_at,
        sessions.c.expires_at,
        credentials.c.tokens_valid_after,
    )
    .join(credentials, credentials.c.user_id == sessions.c.user_id)
    .where(sessions.c.id == bindparam("session_id"))
)


# Typed: the column takes its type from users_user.id, which may not be loaded yet.
CREDENTIAL_OWNER = bindparam("user_id", type_=Uuid())
_PASSWORD_HASH = prebuilt(
    select(credentials.c.password_hash).where(credentials.c.user_id == CREDENTIAL_OWNER)
)


def sign_in_read(user_id: ColumnElement[uuid.UUID], identity: Subquery) -> Select[Any]:
    """What a sign-in reads: the credential's password hash and tokens_valid_after, joined to
    the user's `identity` rows (the users module's subquery), in one round trip and snapshot.
    `user_id` is a bound id, or another subquery for one (the users module's, by email)."""
    columns = (credentials.c.password_hash, credentials.c.tokens_valid_after)
    return prebuilt(
        select(*columns, identity)
        .join_from(credentials, identity, identity.c.id == credentials.c.user_id)
        .where(credentials.c.user_id == user_id)
    )


_CREDENTIAL_ROW = select(credentials.c.user_id).where(credentials.c.user_id == CREDENTIAL_OWNER)
_HOLD_CREDENTIAL = prebuilt(_CREDENTIAL_ROW.with_for_update(read=True))
# A sign-in holds it only if it is as the sign-in read it: the same password, and no role change
# or deactivation since (each moves tokens_valid_after).
_VERIFIED_CREDENTIAL = _CREDENTIAL_ROW.where(
    credentials.c.password_hash == bindparam("password_hash"),
    credentials.c.tokens_valid_after
    == bindparam("valid_after", type_=credentials.c.tokens_valid_after.type),
).with_for_update(read=True)
_HOLD_VERIFIED_CREDENTIAL = prebuilt(_VERIFIED_CREDENTIAL)
_LOCK_CREDENTIAL = prebuilt(_CREDENTIAL_ROW.with_for_update())
_ADD_SESSION = prebuilt(insert(sessions))
_ADD_REFRESH_TOKEN = prebuilt(insert(refresh_tokens))


def _opened_in_one_statement() -> Any:
    """PostgreSQL: hold the credential row, if it is still as the sign-in read it, and write a
    session with its first refresh token, in one statement that commits on its own (the
    token's key to its session is checked at the statement's end)."""
    held = _VERIFIED_CREDENTIAL.cte("held")
    session_id = bindparam("session_id", type_=sessions.c.id.type)
    now = bindparam("now", type_=sessions.c.created_at.type)
    expires_at = bindparam("expires_at", type_=sessions.c.expires_at.type)
    session = insert(sessions).from_select(
        ["id", "user_id", "created_at", "last_used_at", "expires_at", "user_agent", "ip_address"],
        select(
            session_id,
            held.c.user_id,
            now,
            now,
            expires_at,
            bindparam("user_agent", type_=sessions.c.user_agent.type),
            bindparam("ip_address", type_=sessions.c.ip_address.type),
        ),
        include_defaults=False,
    )
    token = insert(refresh_tokens).from_select(
        ["token_hash", "session_id", "created_at", "expires_at"],
        select(
            bindparam("token_hash", type_=refresh_tokens.c.token_hash.type),
            session_id,
            now,
            expires_at,
        ).select_from(held),
        include_defaults=False,
    )
    return token.add_cte(session.cte("session")).returning(refresh_tokens.c.session_id)


_OPEN_SESSION = prebuilt(_opened_in_one_statement())


async def session_state(executor: Executor, session_id: uuid.UUID) -> Record | None:
    return (await executor.execute(_SESSION_STATE, {"session_id": session_id})).first()


async def password_hash(executor: Executor, user_id: uuid.UUID) -> str | None:
    return await executor.scalar(_PASSWORD_HASH, {"user_id": user_id})


async def sign_in_rows(
    executor: Executor, statement: Select[Any], parameters: dict[str, Any]
) -> list[Record]:
    """The rows of a `sign_in_read` statement: none for an unknown user, else one per role."""
    return list(await executor.execute(statement, parameters))


async def add_credential(session: AsyncSession, user_id: uuid.UUID) -> None:
    exists = await session.scalar(
        select(credentials.c.user_id).where(credentials.c.user_id == user_id)
    )
    if exists is None:
        await session.execute(
            insert(credentials).values(**Credential(user_id=user_id).model_dump())
        )


async def update_credential(executor: Executor, user_id: uuid.UUID, **values: Any) -> None:
    await executor.execute(
        update(credentials).where(credentials.c.user_id == user_id).values(**values)
    )


async def replace_password(
    session: AsyncSession, user_id: uuid.UUID, password_hash: str, now: datetime
) -> None:
    """Set a new password: every session ends and every access token already issued dies."""
    await update_credential(
        session,
        user_id,
        password_hash=password_hash,
        password_changed_at=now,
        tokens_valid_after=now,
    )
    await revoke_sessions(session, now, user_id=user_id)


async def open_session(
    driver: DriverConnections,
    *,
    user_id: uuid.UUID,
    password_hash: str,
    valid_after: datetime,
    session_id: uuid.UUID,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
    user_agent: str,
    ip_address: str | None,
) -> bool:
    """A new session and its first refresh token, written while the user's credential row is
    held (shared, as `hold_credential`); none if the credential is no longer as it was read:
    password hash `password_hash`, tokens valid after `valid_after`."""
    held = {"user_id": user_id, "password_hash": password_hash, "valid_after": valid_after}
    if driver.dialect.name == "postgresql":
        values = {
            **held,
            "session_id": session_id,
            "token_hash": token_hash,
            "now": now,
            "expires_at": expires_at,
            "user_agent": user_agent,
            "ip_address": ip_address,
        }
        return (await driver.execute_alone(_OPEN_SESSION, values)).first() is not None
    async with driver.begin() as connection:
        if await connection.scalar(_HOLD_VERIFIED_CREDENTIAL, held) is None:
            return False
        session = {
            "id": session_id,
            "user_id": user_id,
            "created_at": now,
            "last_used_at": now,
            "expires_at": expires_at,
            "user_agent": user_agent,
            "ip_address": ip_address,
        }
        await connection.execute(_ADD_SESSION, session)
        await add_refresh_token(
            connection,
            token_hash=token_hash,
            session_id=session_id,
            now=now,
            expires_at=expires_at,
        )
    return True


async def rehash(
    connection: Connection, user_id: uuid.UUID, *, checked: str, rehashed: str
) -> None:
    """Store the password's hash at the current parameters, unless the password changed since
    the hash `checked` was read."""
    await connection.execute(
        update(credentials)
        .where(credentials.c.user_id == user_id, credentials.c.password_hash == checked)
        .values(password_hash=rehashed)
    )


async def add_refresh_token(
    executor: Executor,
    *,
    token_hash: str,
    session_id: uuid.UUID,
    now: datetime,
    expires_at: datetime,
) -> None:
    row = {
        "token_hash": token_hash,
        "session_id": session_id,
        "created_at": now,
        "expires_at": expires_at,
    }
    await executor.execute(_ADD_REFRESH_TOKEN, row)


async def use_refresh_token(session: AsyncSession, token_hash: str, now: datetime) -> bool:
    """Mark the token used if nobody has: of concurrent uses, exactly one gets True."""
    result = await session.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.token_hash == token_hash,
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return bool(affected_rows(result))


async def spent_refresh_token(
    executor: Executor, token_hash: str, raced_since: datetime
) -> Record | None:
    """A refresh token that was already used: its session, and whether it was used at or after
    `raced_since` (by a refresh running alongside this one, not long before it)."""
    query = select(
        refresh_tokens.c.session_id,
        (refresh_tokens.c.used_at >= raced_since).label("raced"),
    ).where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_not(None))
    return (await executor.execute(query)).first()


async def hold_credential(executor: Executor, user_id: uuid.UUID) -> None:
    """Sign-ins and refreshes read the user's roles while they hold this (shared)."""
    await executor.execute(_HOLD_CREDENTIAL, {"user_id": user_id})


async def wait_for_sign_ins(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Lock the credential row: the sign-ins and refreshes holding it finish first (their
    sessions and tokens are then visible here), and those that come later wait for this
    transaction and see what it changed."""
    await session.execute(_LOCK_CREDENTIAL, {"user_id": user_id})


async def refresh_token_owner(executor: Executor, token_hash: str) -> Record | None:
    """The session and user of a refresh token, used or not."""
    query = (
        select(sessions.c.id.label("session_id"), sessions.c.user_id)
        .join(refresh_tokens, refresh_tokens.c.session_id == sessions.c.id)
        .where(refresh_tokens.c.token_hash == token_hash)
    )
    return (await executor.execute(query)).first()


async def live_session(
    session: AsyncSession, session_id: uuid.UUID, now: datetime
) -> Record | None:
    query = select(sessions.c.id, sessions.c.user_id).where(
        sessions.c.id == session_id,
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > now,
    )
    return (await session.execute(query)).first()


async def live_sessions_of(executor: Executor, user_id: uuid.UUID, now: datetime) -> list[Record]:
    query = (
        select(
            sessions.c.id,
            sessions.c.created_at,
            sessions.c.last_used_at,
            sessions.c.expires_at,
            sessions.c.user_agent,
            sessions.c.ip_address,
        )
        .where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
        )
        .order_by(sessions.c.last_used_at.desc())
    )
    return list(await executor.execute(query))


async def touch_session(
    session: AsyncSession, session_id: uuid.UUID, *, now: datetime, expires_at: datetime
) -> None:
    await session.execute(
        update(sessions)
        .where(sessions.c.id == session_id)
        .values(last_used_at=now, expires_at=expires_at)
    )


async def revoke_sessions(
    session: AsyncSession,
    now: datetime,
    *,
    user_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> int:
    query = update(sessions).where(sessions.c.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(sessions.c.user_id == user_id)
    if session_id is not None:
        query = query.where(sessions.c.id == session_id)
    result = await session.execute(query.values(revoked_at=now))
    return affected_rows(result)


async def forget_user(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Drop the user's sessions (their addresses and devices), tokens and password."""
    own_sessions = select(sessions.c.id).where(sessions.c.user_id == user_id)
    await session.execute(
        delete(refresh_tokens).where(refresh_tokens.c.session_id.in_(own_sessions))
    )
    await session.execute(delete(sessions).where(sessions.c.user_id == user_id))
    await session.execute(delete(action_tokens).where(action_tokens.c.user_id == user_id))
    await update_credential(
        session, user_id, password_hash=None, password_changed_at=None, tokens_valid_after=now
    )


async def add_action_token(session: AsyncSession, token: ActionToken) -> None:
    await session.execute(insert(action_tokens).values(**token.model_dump()))


async def use_action_token(
    session: AsyncSession, token_hash: str, purposes: tuple[str, ...], now: datetime
) -> Record | None:
    """Spend a single-use token: its owner and email, or None if it cannot be used."""
    query = select(action_tokens.c.user_id, action_tokens.c.email).where(
        action_tokens.c.token_hash == token_hash,
        action_tokens.c.purpose.in_(purposes),
        action_tokens.c.used_at.is_(None),
        action_tokens.c.expires_at > now,
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    spent = await session.execute(
        update(action_tokens)
        .where(action_tokens.c.token_hash == token_hash, action_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return found if affected_rows(spent) else None
