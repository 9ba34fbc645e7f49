"""Bearer access token -> Principal, checked against the durable session state."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.auth import repository
from aibos.modules.auth.exceptions import InvalidToken
from aibos.modules.auth.tokens import KeyRing
from aibos.modules.users.api import UserDirectory
from aibos.platform.db import for_reading, utcnow
from aibos.platform.security import Principal

_MAX_CACHED_SESSIONS = 100_000


@dataclass(frozen=True, slots=True)
class _SessionState:
    user_id: uuid.UUID
    ended: bool
    tokens_valid_after: float
    read_at: float


class TokenAuthenticator:
    """The database is the truth; each process remembers a session's state for at most
    `revocation_cache_seconds` (one second), so revocation reaches every token within a
    second whether or not Redis is up."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        keys: KeyRing,
        directory: UserDirectory,
        cache_seconds: float,
    ) -> None:
        self._reader = for_reading(engine)
        self._keys = keys
        self._directory = directory
        self._cache_seconds = cache_seconds
        self._sessions: dict[uuid.UUID, _SessionState] = {}

    async def authenticate(self, token: str) -> Principal:
        claims = self._keys.read(token)
        state = await self._state(claims.session_id)
        if (
            state is None
            or state.ended
            or state.user_id != claims.user_id
            or claims.issued_at < state.tokens_valid_after
        ):
            raise InvalidToken()
        return Principal(
            user_id=claims.user_id,
            session_id=claims.session_id,
            roles=claims.roles,
            permissions=await self._directory.permissions_of(claims.roles),
        )

    async def _state(self, session_id: uuid.UUID) -> _SessionState | None:
        now = time.monotonic()
        cached = self._sessions.get(session_id)
        if cached is not None and now - cached.read_at < self._cache_seconds:
            return cached
        async with self._reader.connect() as connection:
            row = await repository.session_state(connection, session_id)
        if row is None:
            return None
        state = _SessionState(
            user_id=row.user_id,
            ended=row.revoked_at is not None or row.expires_at <= utcnow(),
            tokens_valid_after=_timestamp(row.tokens_valid_after),
            read_at=now,
        )
        if len(self._sessions) >= _MAX_CACHED_SESSIONS:
            self._sessions.clear()
        self._sessions[session_id] = state
        return state


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()
