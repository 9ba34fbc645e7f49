"""Which errors mean the database cannot be reached, rather than a fault in a request."""

from __future__ import annotations

import traceback

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# The server is gone, going, refusing connections, or the database itself is.
_UNREACHABLE_SERVER = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.DatabaseDroppedError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,
)
_UNREACHABLE_MESSAGES = (
    "connection is closed",  # asyncpg, on a connection the server closed
    "not currently accepting connections",  # PostgreSQL, ALLOW_CONNECTIONS false
    "unable to open database file",  # SQLite: a missing directory, an unreadable file
)
_DATABASE_PACKAGES = ("asyncpg", "sqlalchemy", "aiosqlite")


def is_unreachable(error: BaseException) -> bool:
    """The database could not be reached, or dropped the connection: a 503, not a bug."""
    if isinstance(error, PoolTimeout):
        return True  # no connection came free in time: what a hung database looks like
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or _is_unreachable_cause(error.orig)
    return _is_unreachable_cause(error)


def _is_unreachable_cause(error: BaseException | None) -> bool:
    for _ in range(3):  # the driver's error, as adapted by SQLAlchemy's, and its cause
        if error is None:
            return False
        if isinstance(error, _UNREACHABLE_SERVER):
            return True
        if isinstance(error, OSError):
            return _raised_by_database_driver(error)
        if any(message in str(error) for message in _UNREACHABLE_MESSAGES):
            return True
        error = error.__cause__
    return False


def _raised_by_database_driver(error: OSError) -> bool:
    """A socket error from connecting to the database, not from another service."""
    return any(
        frame.f_globals.get("__name__", "").partition(".")[0] in _DATABASE_PACKAGES
        for frame, _ in traceback.walk_tb(error.__traceback__)
    )
