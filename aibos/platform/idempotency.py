"""Idempotency-Key: the same key and body replays the first answer; another body is refused.

The work's own transaction takes the key with its first statement and stores the answer with
its last, so the work, the key and the answer commit together or not at all: a request that
fails leaves the key free for a retry. On PostgreSQL a transaction-level advisory lock on the
key tells a second request that the first is still running (409) instead of making it wait.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    Insert,
    String,
    Text,
    Update,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel
from starlette.responses import Response

from aibos.platform.db import (
    Connection,
    UtcDateTime,
    insert_or_update,
    prebuilt,
    table_of,
    utcnow,
)
from aibos.platform.errors import Conflict, InvalidInput

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "platform_idempotency_key"

    owner: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
    request_hash: str = Field(max_length=64)
    status_code: int | None = Field(default=None)
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    operation: str = Field(sa_column=Column(String(100), nullable=False))


keys = table_of(IdempotencyKey)
_NEW_KEY = ("owner", "key", "operation", "request_hash", "created_at", "expires_at")
_THIS_KEY = (keys.c.owner == bindparam("key_owner"), keys.c.key == bindparam("key_name"))
_FIND = prebuilt(
    select(keys.c.request_hash, keys.c.status_code, keys.c.response, keys.c.expires_at).where(
        *_THIS_KEY
    )
)
_START_OVER = prebuilt(
    update(keys)
    .where(*_THIS_KEY)
    .values(
        operation=bindparam("operation"),
        request_hash=bindparam("request_hash"),
        status_code=None,
        response=None,
        created_at=bindparam("created_at"),
        expires_at=bindparam("expires_at"),
    )
)
_RECORD = prebuilt(
    update(keys)
    .where(*_THIS_KEY)
    .values(status_code=bindparam("status"), response=bindparam("answer"))
)
_TRY_LOCK = prebuilt(select(func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger))))


class KeyInProgress(Conflict):
    error_code = "IDEMPOTENCY_KEY_IN_PROGRESS"
    title = "A request with this Idempotency-Key is still running"


class KeyReused(InvalidInput):
    error_code = "IDEMPOTENCY_KEY_REUSED"
    title = "This Idempotency-Key was used with a different request"


class KeyInvalid(InvalidInput):
    error_code = "IDEMPOTENCY_KEY_INVALID"
    title = "The Idempotency-Key header is not acceptable"


class Replayed(Exception):
    """The key already has its answer; raised inside the work's transaction, which then ends
    without writing anything."""

    def __init__(self, status_code: int, answer: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.answer = answer


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's Idempotency-Key, to be taken inside the transaction of its work."""

    owner: str
    key: str
    operation: str
    request_hash: str
    status_code: int

    @property
    def _lock_id(self) -> int:
        digest = hashlib.sha256(f"{self.owner}\n{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    async def take(self, connection: Connection) -> None:
        """Hold the key for this transaction; raises Replayed when it already has an answer."""
        now = utcnow()
        new_key = {
            "owner": self.owner,
            "key": self.key,
            "operation": self.operation,
            "request_hash": self.request_hash,
            "created_at": now,
            "expires_at": now + KEEP_FOR,
            "lock_id": self._lock_id,
            "key_owner": self.owner,
            "key_name": self.key,
        }
        taken = await connection.execute(_taking(connection.dialect.name), new_key)
        if taken.first() is not None:
            return
        found = await self._answered(connection, new_key)
        on_postgres = connection.dialect.name == "postgresql"
        if on_postgres:
            if not await connection.scalar(_TRY_LOCK, new_key):
                raise KeyInProgress("Wait for the first request to finish, then retry.")
            # Whoever held the lock before has finished: this statement sees what it left.
            found = await self._answered(connection, new_key)
        # The key is ours now: free again (its first request gave up), or kept long enough.
        if found is not None:
            await connection.execute(_START_OVER, new_key)
        elif (await connection.execute(_taking(connection.dialect.name), new_key)).first() is None:
            raise KeyInProgress("Wait for the first request to finish, then retry.")

    async def _answered(self, connection: Connection, new_key: dict[str, Any]) -> Any:
        """The key's row, if any; raises Replayed (or KeyReused) when it holds a live answer."""
        found = (await connection.execute(_FIND, new_key)).first()
        if found is not None and found.status_code is not None and found.expires_at >= utcnow():
            if found.request_hash != self.request_hash:
                raise KeyReused()
            raise Replayed(found.status_code, found.response)
        return found

    async def record(self, connection: Connection, answer: str) -> None:
        await connection.execute(
            _RECORD,
            {
                "key_owner": self.owner,
                "key_name": self.key,
                "status": self.status_code,
                "answer": answer,
            },
        )

    def recording(self, answer: str, blank: str) -> dict[str, Any]:
        """The parameters of `recorded_with` for this key: `answer` holds `blank` as one JSON
        string, which the statement replaces."""
        return {
            "key_owner": self.owner,
            "key_name": self.key,
            "answer_status": self.status_code,
            "answer": answer,
            "answer_blank": json.dumps(blank),
        }


def recorded_with(filled_in: Any) -> Update:
    """PostgreSQL: keep a key's answer, its blank filled in with the text `filled_in` (as a
    JSON string), so that a write's last statement records its answer too (see `recording`)."""
    return (
        update(keys)
        .where(*_THIS_KEY)
        .values(
            status_code=bindparam("answer_status"),
            response=func.replace(
                bindparam("answer", type_=Text),
                bindparam("answer_blank", type_=Text),
                cast(func.to_json(filled_in), Text),
            ),
        )
    )


@cache
def _taking(dialect_name: str) -> Insert:
    """INSERT the key unless it exists; on PostgreSQL only when its advisory lock is free."""
    statement = insert_or_update(dialect_name, keys)
    if dialect_name == "postgresql":
        values = select(*(bindparam(name, type_=keys.c[name].type) for name in _NEW_KEY)).where(
            func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger))
        )
        statement = statement.from_select(_NEW_KEY, values)
    else:
        statement = statement.values({name: bindparam(name) for name in _NEW_KEY})
    taken: Insert = statement.on_conflict_do_nothing(
        index_elements=[keys.c.owner, keys.c.key]
    ).returning(keys.c.key)
    return prebuilt(taken)


def claim(
    *, owner: uuid.UUID | str, key: str, operation: str, body: BaseModel | None, status_code: int
) -> Claim:
    """The claim of a request: its key, checked, and a digest of what it asks for."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise KeyInvalid(f"Use a printable key of 1 to {MAX_KEY_LENGTH} characters.")
    asked = operation + "\n" + ("" if body is None else body.model_dump_json())
    return Claim(
        owner=str(owner),
        key=key,
        operation=operation,
        request_hash=hashlib.sha256(asked.encode()).hexdigest(),
        status_code=status_code,
    )


async def take(claim: Claim | None, connection: Connection) -> None:
    """The first step of a write that may carry an Idempotency-Key."""
    if claim is not None:
        await claim.take(connection)


def as_json(answer: BaseModel | list[Any]) -> str:
    if isinstance(answer, list):
        return "[" + ",".join(item.model_dump_json() for item in answer) + "]"
    return answer.model_dump_json()


async def remember(
    claim: Claim | None, connection: Connection, answer: BaseModel | list[Any]
) -> None:
    """The last step of such a write: keep the answer with its key, in the same transaction."""
    if claim is not None:
        await claim.record(connection, as_json(answer))


async def answer_once(
    claim: Claim | None,
    work: Callable[[Claim | None], Awaitable[BaseModel | list[Any]]],
    *,
    status_code: int,
) -> Response:
    """Do `work` once per key: its answer, or the first answer again for a repeat."""
    try:
        answer = await work(claim)
    except Replayed as replay:
        return _json_response(
            replay.answer, replay.status_code, headers={"Idempotent-Replayed": "true"}
        )
    return _json_response(as_json(answer), status_code)


def _json_response(body: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)
