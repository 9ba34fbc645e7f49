"""The async engine and the unit of work: one session, one transaction."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar, cast

from sqlalchemy import CursorResult, DateTime, Dialect, MetaData, Result, Row, Table, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from aibos.platform.errors import Unavailable
from aibos.platform.settings import Settings

T = TypeVar("T")

# One naming convention for keys and indexes keeps migrations stable and readable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata
_AFTER_COMMIT = "aibos.after_commit"
_WRITING = "aibos_writing"

Record: TypeAlias = Row[*tuple[Any, ...]]


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class, for fast, typed Core queries."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def insert_or_update(dialect_name: str, table: Table) -> Any:
    """An INSERT that can take ON CONFLICT clauses, on PostgreSQL and on SQLite alike."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table)


def contains_text(column: Any, text: str) -> Any:
    """`column` holds `text`, case-insensitively and literally (% and _ are not wildcards)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    return int(cast(CursorResult[*tuple[Any, ...]], result).rowcount)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.uses_sqlite:
        # The driver's own transaction handling is switched off so that a writing transaction
        # starts with BEGIN IMMEDIATE (see `for_writing`): it waits for the write lock up front
        # instead of failing with "database is locked" when two that read first both write.
        engine = create_async_engine(
            settings.database_url, connect_args={"timeout": 30, "isolation_level": None}
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediately)
        return engine
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={
            "server_settings": {
                "application_name": "aibos",
                "statement_timeout": str(settings.db_statement_timeout_ms),
            }
        },
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediately(connection: Any) -> None:
    writing = connection.get_execution_options().get(_WRITING, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def for_reading(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for reads: no BEGIN and ROLLBACK around each one."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def for_writing(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for transactions that will write (SQLite locks up front)."""
    return engine.execution_options(**{_WRITING: True})


_CONFLICT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock timeout


def is_lock_conflict(error: DBAPIError) -> bool:
    """A transaction lost a race for locks: running it again may well succeed."""
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return sqlstate in _CONFLICT_SQLSTATES or "database is locked" in str(error.orig)


async def retrying_lock_conflicts(work: Callable[[], Awaitable[T]], *, attempts: int = 5) -> T:
    """Run `work` (a whole transaction) again when it loses a lock race; then 503."""
    for attempt in range(attempts):
        try:
            return await work()
        except DBAPIError as error:
            if not is_lock_conflict(error):
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter)
    raise Unavailable("The ledger is busy; retry shortly.", retry_after=1)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work, which write."""
    return async_sessionmaker(for_writing(engine), expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session and one transaction: committed when the block ends, rolled back on error."""
    async with session_factory() as session:
        async with session.begin():
            yield session
        for callback in session.info.pop(_AFTER_COMMIT, []):
            await callback()


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the unit of work has committed (mail, cache invalidation)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)
