"""The async engine and the unit of work: one session, one transaction."""

from __future__ import annotations

import asyncio
import random
import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeAlias, TypeVar, cast

import asyncpg
from sqlalchemy import Connection as SyncConnection
from sqlalchemy import CursorResult, DateTime, Dialect, MetaData, Result, Row, Table, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError, MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn
from sqlmodel import SQLModel

from aibos.platform.errors import Unavailable
from aibos.platform.settings import Settings

T = TypeVar("T")
E = TypeVar("E", bound=Executable)

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
_PREBUILT = "aibos_prebuilt"

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


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    if settings.uses_sqlite:
        # The driver's own transaction handling is switched off so that a writing transaction
        # starts with BEGIN IMMEDIATE (see `for_writing`): it waits for the write lock up front
        # instead of failing with "database is locked" when two that read first both write.
        engine = create_async_engine(
            settings.database_url,
            hide_parameters=True,
            connect_args={"timeout": 30, "isolation_level": None},
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediately)
        return engine
    engine = create_async_engine(
        settings.database_url,
        hide_parameters=True,  # errors and their logs never carry values (password hashes)
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=0 if pool_size else settings.db_max_overflow,
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
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, a terminated backend) is replaced
    as it is checked out, for every path alike. The driver saw the socket close while the
    connection sat in the pool, so asking it costs no round trip, unlike a pre-ping."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("The server closed this pooled connection.")


def create_writer_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The hot writers' own pool, one connection per writer (PostgreSQL): a posting never waits
    for a connection behind the readers that hold the shared pool while the event loop is busy.
    SQLite writes one at a time anyway: there it is `engine` itself."""
    if settings.uses_sqlite:
        return engine
    return create_engine(settings, pool_size=settings.db_hot_writers)


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


def is_lock_conflict(error: Exception) -> bool:
    """A transaction lost a race for locks: running it again may well succeed. The error is
    SQLAlchemy's, or the driver's own from a `driver_transaction`."""
    if not isinstance(error, DBAPIError | asyncpg.PostgresError):
        return False
    cause = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate in _CONFLICT_SQLSTATES or "database is locked" in str(cause)


async def retrying_lock_conflicts(work: Callable[[], Awaitable[T]], *, attempts: int = 5) -> T:
    """Run `work` (a whole transaction) again when it loses a lock race; then 503."""
    for attempt in range(attempts):
        try:
            return await work()
        except Exception as error:
            if not is_lock_conflict(error):
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter)
    raise Unavailable("The ledger is busy; retry shortly.", retry_after=1)


class Connection(Protocol):
    """What a transaction's statements need: an AsyncConnection, or a DriverShortcut."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> Any: ...

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any: ...


def prebuilt(statement: E) -> E:
    """Mark a statement built once, at import, as one a DriverShortcut may compile for good."""
    return statement.execution_options(**{_PREBUILT: True})


class DriverConnections:
    """Connections for the hottest paths. On asyncpg the driver itself runs their prebuilt
    statements (SQLAlchemy's work per execution costs more CPU than the rest of a small
    statement) and begins and commits their transactions; any other statement goes through
    SQLAlchemy on the same connection, which leaves transactions to the driver. Elsewhere,
    they are ordinary SQLAlchemy connections.

    At most `writers` transactions run at a time in this process; the others wait their turn
    here. When they contend for the same rows, a queue in the process is cheaper and fairer
    than one in the database, and the transactions holding the locks finish sooner."""

    def __init__(
        self, engine: AsyncEngine, *, writers: int, writer_engine: AsyncEngine | None = None
    ) -> None:
        self._engine = engine
        self._writer_engine = writer_engine or engine  # see create_writer_engine
        self.dialect = engine.dialect
        self._on_asyncpg = engine.dialect.driver == "asyncpg"
        self._reader = for_reading(engine)
        self._writer = for_writing(self._writer_engine)
        self._writers_own = for_reading(self._writer_engine)  # the driver runs the transaction
        self._writers = writers
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """For prebuilt statements only, each on its own, no transaction around them (for
        reads; see `execute_alone` for a write): on asyncpg the pooled connection goes to the
        driver without SQLAlchemy's."""
        if not self._on_asyncpg:
            async with self._reader.connect() as connection:
                yield connection
            return
        async with self._alone(self._reader) as connection:
            yield connection

    @asynccontextmanager
    async def _alone(self, engine: AsyncEngine) -> AsyncIterator[Connection]:
        lease = _Lease(engine, await engine.raw_connection())
        try:
            yield DriverShortcut(self.dialect, lease.driver)
        except BaseException:
            await lease.invalidate()  # a statement cut short may leave it unusable
            raise
        finally:
            await lease.release()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Connection]:
        """One transaction, committed when the block ends, rolled back if it raises."""
        async with self._turn(), self._transaction() as connection:
            yield connection

    async def execute_alone(self, statement: Executable, parameters: Any = None) -> Any:
        """One statement, a transaction of its own. On asyncpg it goes without BEGIN and
        COMMIT, two round trips fewer: the server commits a lone statement as it ends."""
        if not self._on_asyncpg:
            async with self.begin() as connection:
                return await connection.execute(statement, parameters)
        async with self._turn(), self._alone(self._writers_own) as connection:
            return await connection.execute(statement, parameters)

    def _turn(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:  # a semaphore belongs to one event loop
            turns = self._turns[loop] = asyncio.Semaphore(self._writers)
        return turns

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        if not self._on_asyncpg:
            async with self._writer.begin() as connection:
                yield connection
            return
        lease = _Lease(self._writers_own, await self._writers_own.raw_connection())
        try:
            async with lease.driver.transaction():
                yield DriverShortcut(self.dialect, lease.driver, lease)
        except BaseException:
            if lease.driver.is_closed() or lease.driver.is_in_transaction():
                await lease.invalidate()  # not rolled back: never hand it out again
            raise
        finally:
            await lease.release()


class _Lease:
    """A pooled connection whose transaction the driver runs, and SQLAlchemy's connection to
    it, made only if a statement that is not prebuilt needs one. That connection is in
    autocommit mode: it leaves the transaction to the driver."""

    def __init__(self, engine: AsyncEngine, pooled: Any) -> None:
        self.driver = pooled.driver_connection
        self._engine = engine
        self._pooled = pooled
        self._sqlalchemy: AsyncConnection | None = None

    async def sqlalchemy(self) -> AsyncConnection:
        if self._sqlalchemy is None:
            connection = await greenlet_spawn(
                SyncConnection, self._engine.sync_engine, self._pooled
            )
            self._sqlalchemy = AsyncConnection(self._engine, connection)
        return self._sqlalchemy

    async def invalidate(self) -> None:
        if self._sqlalchemy is not None:
            await self._sqlalchemy.invalidate()
        else:
            self._pooled.invalidate()

    async def release(self) -> None:
        """Back to the pool, as AsyncConnection.close does."""
        if self._sqlalchemy is not None:
            await self._sqlalchemy.close()
        else:
            await greenlet_spawn(self._pooled.close)


class DriverShortcut:
    """An asyncpg connection, and where to get SQLAlchemy's connection to the same one, if
    anywhere, for the statements that are not prebuilt."""

    def __init__(self, dialect: Dialect, driver: Any, lease: _Lease | None = None) -> None:
        self.dialect = dialect
        self._driver = driver
        self._lease = lease

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        many = isinstance(parameters, list)
        keys = tuple(parameters[0] if many else parameters or ())
        plan = _plan(statement, keys, self.dialect)
        if plan is None:
            if self._lease is None:
                raise TypeError("Only prebuilt statements run on DriverConnections.connect().")
            return await (await self._lease.sqlalchemy()).execute(statement, parameters)
        if many:
            await self._driver.executemany(plan.sql, [plan.arguments(row) for row in parameters])
            return _Rows([])
        return _Rows(await self._driver.fetch(plan.sql, *plan.arguments(parameters or {})))

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]  # values the statement itself carries (literals), by parameter name

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        return [parameters.get(name, fixed.get(name)) for name in self.names]


_plans: weakref.WeakKeyDictionary[Executable, dict[tuple[str, ...], _Plan | None]] = (
    weakref.WeakKeyDictionary()
)


def _plan(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """The SQL and parameter order of a prebuilt statement given these keys; None for one that
    SQLAlchemy must run (not prebuilt, or with values it works out at execution)."""
    if not statement.get_execution_options().get(_PREBUILT):
        return None
    known = _plans.setdefault(statement, {})
    if keys not in known:
        compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        sql = str(compiled)
        simple = (
            compiled.positiontup is not None
            and "POSTCOMPILE" not in sql  # parameters expanded at execution
            and not compiled.insert_prefetch  # column defaults computed at execution
            and not compiled.update_prefetch
        )
        fixed = {name: bind.value for name, bind in compiled.binds.items()}
        names = tuple(compiled.positiontup or ())
        known[keys] = _Plan(sql, names, fixed) if simple else None
    return known[keys]


class _Rows:
    """A driver's records with what callers use of SQLAlchemy's results."""

    def __init__(self, records: list[asyncpg.Record]) -> None:
        self._rows = [_named(record) for record in records]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise NoResultFound() if not self._rows else MultipleResultsFound()
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> Any:
    fields = namedtuple("Row", names, rename=True)  # type: ignore[misc]

    class Row(fields):
        """Columns by name as attributes, and `_mapping`, as SQLAlchemy's rows have them."""

        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(names, self, strict=True))

    return Row


def _named(record: asyncpg.Record) -> Any:
    return _row_type(tuple(record.keys()))._make(record.values())


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
