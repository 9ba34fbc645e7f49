"""Idempotency-Key: the same key and body replays the first answer; the work is stored with it.

A claim is taken in its own short transaction (so a concurrent request with the key sees it and
gets 409); the service records the answer inside its own transaction, so the work and its
recorded answer commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Column, String, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import Field, SQLModel
from starlette.responses import Response

from aibos.platform.db import (
    UtcDateTime,
    affected_rows,
    for_writing,
    insert_or_update,
    table_of,
    utcnow,
)
from aibos.platform.errors import Conflict, InvalidInput

T = TypeVar("T")
KEEP_FOR = timedelta(hours=24)
RUNNING_FOR_AT_MOST = timedelta(minutes=2)
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
    running_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    operation: str = Field(sa_column=Column(String(100), nullable=False))


keys = table_of(IdempotencyKey)


class KeyInProgress(Conflict):
    error_code = "IDEMPOTENCY_KEY_IN_PROGRESS"
    title = "A request with this Idempotency-Key is still running"


class KeyReused(InvalidInput):
    error_code = "IDEMPOTENCY_KEY_REUSED"
    title = "This Idempotency-Key was used with a different request"


class KeyInvalid(InvalidInput):
    error_code = "IDEMPOTENCY_KEY_INVALID"
    title = "The Idempotency-Key header is not acceptable"


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: Any


@dataclass(frozen=True, slots=True)
class Claim:
    owner: str
    key: str

    async def record(
        self, session: AsyncSession | AsyncConnection, *, status_code: int, body: Any
    ) -> None:
        """Store the answer in the caller's transaction, beside the work it describes."""
        await session.execute(
            update(keys)
            .where(keys.c.owner == self.owner, keys.c.key == self.key)
            .values(status_code=status_code, response=json.dumps(body), running_until=None)
        )


async def remember(
    claim: Claim | None,
    connection: AsyncSession | AsyncConnection,
    answer: BaseModel | list[Any],
    *,
    status_code: int = 201,
) -> None:
    """Keep the answer with its key, in the transaction of the work, when there is a key."""
    if claim is None:
        return
    body = (
        [item.model_dump(mode="json") for item in answer]
        if isinstance(answer, list)
        else answer.model_dump(mode="json")
    )
    await claim.record(connection, status_code=status_code, body=body)


def request_hash(operation: str, body: Any) -> str:
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = for_writing(engine)

    async def claim(
        self, *, owner: uuid.UUID | str, key: str, operation: str, body: Any
    ) -> Claim | Replay:
        """Take the key for this request, or give back the answer it already has."""
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise KeyInvalid(f"Use a printable key of 1 to {MAX_KEY_LENGTH} characters.")
        owner, digest, now = str(owner), request_hash(operation, body), utcnow()
        async with self._writer.begin() as connection:
            taken = await connection.execute(
                insert_or_update(connection.dialect.name, keys)
                .values(
                    owner=owner,
                    key=key,
                    operation=operation,
                    request_hash=digest,
                    created_at=now,
                    expires_at=now + KEEP_FOR,
                    running_until=now + RUNNING_FOR_AT_MOST,
                )
                .on_conflict_do_nothing(index_elements=[keys.c.owner, keys.c.key])
                .returning(keys.c.key)
            )
            if taken.first() is not None:
                return Claim(owner=owner, key=key)
            return await self._existing(
                connection, owner=owner, key=key, operation=operation, digest=digest, now=now
            )

    async def _existing(
        self,
        connection: AsyncConnection,
        *,
        owner: str,
        key: str,
        operation: str,
        digest: str,
        now: datetime,
    ) -> Claim | Replay:
        this_key = (keys.c.owner == owner, keys.c.key == key)
        found = (await connection.execute(select(keys).where(*this_key).with_for_update())).one()
        if found.expires_at < now:  # kept long enough: the key starts over
            await connection.execute(
                update(keys)
                .where(*this_key)
                .values(
                    operation=operation,
                    request_hash=digest,
                    status_code=None,
                    response=None,
                    created_at=now,
                    expires_at=now + KEEP_FOR,
                    running_until=now + RUNNING_FOR_AT_MOST,
                )
            )
            return Claim(owner=owner, key=key)
        if found.request_hash != digest:
            raise KeyReused()
        if found.status_code is not None:
            return Replay(status_code=found.status_code, body=json.loads(found.response))
        if found.running_until is not None and found.running_until > now:
            raise KeyInProgress("Wait for the first request to finish, then retry.")
        # The first attempt died without an answer: this one takes over.
        taken = await connection.execute(
            update(keys)
            .where(
                keys.c.owner == owner,
                keys.c.key == key,
                keys.c.running_until == found.running_until,
            )
            .values(running_until=now + RUNNING_FOR_AT_MOST)
        )
        if not affected_rows(taken):
            raise KeyInProgress("Wait for the first request to finish, then retry.")
        return Claim(owner=owner, key=key)

    async def release(self, claim: Claim) -> None:
        """Forget a claim whose work failed and wrote nothing, so a retry runs again."""
        async with self._writer.begin() as connection:
            await connection.execute(
                delete(keys).where(
                    keys.c.owner == claim.owner,
                    keys.c.key == claim.key,
                    keys.c.status_code.is_(None),
                )
            )


async def run_idempotently(
    *,
    idempotency: Idempotency,
    key: str | None,
    owner: uuid.UUID,
    operation: str,
    body: Any,
    response: Response,
    work: Callable[[Claim | None], Awaitable[T]],
) -> T | Any:
    """Do `work` once per Idempotency-Key; a repeat gets the first answer back."""
    if key is None:
        return await work(None)
    outcome = await idempotency.claim(owner=owner, key=key, operation=operation, body=body)
    if isinstance(outcome, Replay):
        response.status_code = outcome.status_code
        response.headers["Idempotent-Replayed"] = "true"
        return outcome.body
    try:
        return await work(outcome)
    except BaseException:
        await idempotency.release(outcome)
        raise
