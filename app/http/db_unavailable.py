"""An unavailable database is a 503 with Retry-After in the owning surface's shape.

PostgreSQL refusing connections, dropping them, or not answering within the configured
timeouts (app.core.db_deadlines) is not a bug: the request is answered 503 at once, in the
dialect's envelope, as OAuth JSON, or as a themed page, and the client is told when to try
again. The failed connection is rolled back or dropped, so the next request after the
database returns opens a fresh one. Any other database error is a bug and stays a plain
500 with its traceback in the log.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app
from sqlalchemy import exc
from werkzeug.exceptions import InternalServerError

from app.core.db_outage import outage
from app.extensions import db
from app.http import session_cookie, transaction
from app.http.errors import http_error, unavailable, unexpected_error

RETRY_AFTER_SECONDS = 5
MESSAGE = ("Tessera cannot reach its database right now. "
           "Please try again in a few seconds.")
# An outage fails every request; operators need one line about it, not thousands.
LOG_EVERY_SECONDS = 60
_LAST_LOGGED = "tessera.db_outage_logged_at"


def register(app: Flask) -> None:
    for kind in (exc.DBAPIError, exc.TimeoutError, exc.DisconnectionError):
        app.register_error_handler(kind, _database_error)
    # An error in an after-request hook (the commit) reaches Flask as a 500 wrapping it.
    app.register_error_handler(InternalServerError, _internal_error)


def _database_error(error: exc.SQLAlchemyError) -> Response:
    if outage(error) is None:
        return unexpected_error(error)
    return _unavailable(error)


def _internal_error(error: InternalServerError) -> Response:
    original = error.original_exception
    if original is not None and outage(original) is not None:
        return _unavailable(original)
    return http_error(error)


def _unavailable(error: BaseException) -> Response:
    _release_connection()
    _log_once(error)
    # The page's template asks who is signed in: without a database, nobody is.
    session_cookie.leave_unresolved()
    return unavailable(MESSAGE, retry_after=RETRY_AFTER_SECONDS)


def served_from_memory(error: BaseException) -> None:
    """For a view that answers an outage from memory itself (JWKS): drop the failed
    connection and log the outage like any other."""
    _release_connection()
    _log_once(error)


def _release_connection() -> None:
    """Roll back what the request wrote; a connection that cannot even do that is dropped
    (SQLAlchemy has already marked a lost one invalid, so the pool opens a fresh one)."""
    try:
        transaction.abandon()
    except exc.SQLAlchemyError:
        db.session.invalidate()


def _log_once(error: BaseException) -> None:
    now = time.monotonic()
    last = current_app.extensions.get(_LAST_LOGGED)
    if last is None or now - last >= LOG_EVERY_SECONDS:
        current_app.extensions[_LAST_LOGGED] = now
        current_app.logger.warning(
            "database unavailable (%s), answering 503: %s (logged at most once a minute)",
            outage(error), str(error).splitlines()[0] if str(error) else type(error).__name__)
