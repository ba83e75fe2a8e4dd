"""How long Tessera waits for PostgreSQL, so a stuck database fails a request in seconds.

Every PostgreSQL connection is opened with psycopg's `connect_timeout` and the server-side
`statement_timeout` and `idle_in_transaction_session_timeout` (as startup options, after
whatever the database URL already asks for). A statement the server never hears (a frozen
network, a stalled proxy) is beyond `statement_timeout`, so the client also stops waiting
for any answer one second after it: the connection is then closed, since its state is
unknown, and SQLAlchemy refreshes the pool. The pool itself gives up after `pool_timeout`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from app.core.db_outage import DatabaseTimeout

# After statement_timeout the server cancels the statement itself and the connection stays
# usable; the client-side deadline is only for a server that cannot be heard at all.
ANSWER_MARGIN_SECONDS = 1.0


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection that waits at most `answer_deadline` seconds for the server."""

    answer_deadline: float | None = None

    def wait(self, gen, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.answer_deadline
        try:
            return super().wait(gen, *args, **kwargs)
        except pg_errors._WaitTimeout:  # psycopg's own wait timeout (documented by wait())
            # Whatever was half sent or half read is lost: the connection cannot be reused.
            self.pgconn.finish()
            raise DatabaseTimeout(
                f"no answer from the database within {kwargs['timeout']:g} seconds") from None


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options: the pool's wait (an in-memory SQLite has no pool queue)."""
    # No pre-ping: it costs a round trip per checkout on the token hot path. A dropped
    # connection fails one request and SQLAlchemy then refreshes the whole pool.
    options: dict[str, Any] = {"pool_recycle": 1800}
    url = make_url(config["DATABASE_URL"])
    if not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        options["pool_timeout"] = config["DATABASE_POOL_TIMEOUT"]
    return options


def install(engine: Engine, config: Mapping[str, Any]) -> None:
    """Open the engine's PostgreSQL connections with the configured timeouts."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "do_connect", functools.partial(_connect, config=dict(
            connect=config["DATABASE_CONNECT_TIMEOUT"],
            statement=config["DATABASE_STATEMENT_TIMEOUT"],
            idle=config["DATABASE_IDLE_IN_TRANSACTION_TIMEOUT"])))


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _connect(dialect, _record, cargs, cparams, *, config: dict[str, float]):
    cparams.setdefault("connect_timeout", config["connect"])
    ours = (f"-c statement_timeout={_milliseconds(config['statement'])} "
            f"-c idle_in_transaction_session_timeout={_milliseconds(config['idle'])}")
    # The URL's own options come last, so an operator's explicit value wins.
    cparams["options"] = " ".join(filter(None, (ours, cparams.get("options"))))
    if dialect.driver != "psycopg":
        return None  # SQLAlchemy connects as usual, with the options above
    connection = DeadlineConnection.connect(*cargs, **cparams)
    connection.answer_deadline = config["statement"] + ANSWER_MARGIN_SECONDS
    return connection


@contextmanager
def unbounded(connection: Connection) -> Iterator[Connection]:
    """Lift the timeouts for a long job (a migration) on one connection, which is closed
    afterwards rather than returned to the pool without them."""
    if connection.dialect.name != "postgresql":
        yield connection
        return
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.exec_driver_sql("SET idle_in_transaction_session_timeout = 0")
    connection.commit()
    dbapi = connection.connection.dbapi_connection
    if isinstance(dbapi, DeadlineConnection):
        dbapi.answer_deadline = None
    try:
        yield connection
    finally:
        connection.invalidate()
