"""Whether a database error means "the database is unavailable" rather than a bug.

An unavailable database (refused or dropped connections, a connection or statement that
timed out, a pool with no free connection) is answered 503 with Retry-After and gets better
on its own; anything else the database refuses (a missing table, a bad statement, a
constraint) is a bug, answered 500 and logged with its traceback.
"""

from __future__ import annotations

import sqlite3

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import exc

TIMEOUT = "timeout"
UNREACHABLE = "unreachable"

# SQLSTATE classes that say the server cannot serve right now: 08 connection exception,
# 53 insufficient resources (too many connections), 57 operator intervention (a cancelled
# statement, a shutdown, "cannot connect now"), 58 system error.
_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})
_QUERY_CANCELED = "57014"  # what statement_timeout raises


class DatabaseTimeout(psycopg.OperationalError):
    """The server did not answer within the client-side deadline (app.core.db_deadlines)."""


def outage(error: BaseException) -> str | None:
    """TIMEOUT or UNREACHABLE when `error` says the database cannot serve now, else None."""
    if isinstance(error, exc.TimeoutError):  # no free connection in the pool
        return TIMEOUT
    if isinstance(error, exc.DisconnectionError):
        return UNREACHABLE
    if not isinstance(error, exc.DBAPIError):
        return None
    return _driver_outage(error.orig) or (UNREACHABLE if error.connection_invalidated
                                          else None)


def _driver_outage(orig: BaseException | None) -> str | None:
    if isinstance(orig, (DatabaseTimeout, pg_errors.ConnectionTimeout)):
        return TIMEOUT
    if isinstance(orig, psycopg.OperationalError):
        state = orig.sqlstate
        if state == _QUERY_CANCELED:
            return TIMEOUT
        # No SQLSTATE: psycopg itself failed to connect or lost the connection.
        if state is None or state[:2] in _UNAVAILABLE_CLASSES:
            return UNREACHABLE
        return None
    if isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig):
        return TIMEOUT  # SQLite's busy timeout ran out behind another writer
    return None
