"""Where an error becomes a response: one handler per kind, rendered by the owning surface.

Core errors settle the transaction (durable ones keep their side effects) and carry their
headers; HTTP errors (404 and 405 come before any view) roll back; anything unexpected is
logged with its traceback for operators while the client sees a plain 500. None of them
ever shows a stack trace.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import TesseraError
from app.http import headers as header_rules
from app.http import transaction
from app.http.surfaces import current_surface

# Titles and wording per status; a surface uses them where it has none of its own.
STATUS_TEXT = {
    400: ("Bad request", "Something in that request was not right. Go back and try again."),
    401: ("Sign-in required", "Sign in to continue."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Page not found", "The page you asked for does not exist."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    413: ("Too large", "That request was larger than Tessera accepts."),
    429: ("Slow down", "Too many attempts. Wait a moment and try again."),
    500: ("Something went wrong", "An unexpected error occurred. It has been logged."),
    503: ("Temporarily unavailable", "Tessera cannot answer right now. Try again shortly."),
}

CSRF_MESSAGE = ("The form was missing its security token or it expired. "
                "Reload the page and try again.")


def status_text(status: int) -> tuple[str, str]:
    return STATUS_TEXT.get(status, STATUS_TEXT[500 if status >= 500 else 400])


def json_error(status: int, code: str | None, message: str | None,
               headers: dict[str, str]) -> Response:
    """`{"error", "error_description"}`: the OAuth error shape (RFC 6749 §5.2), used by the
    machine endpoints that are not a dialect (token, discovery, health, ...)."""
    title, default_text = status_text(status)
    response = jsonify({"error": code or title.lower().replace(" ", "_"),
                        "error_description": message or default_text})
    response.status_code = status
    response.headers.update(headers)
    return response


def error_response(status: int, message: str | None = None, code: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """An error answered in the shape of the surface that owns this request's path."""
    return current_surface().render(status, code, message,
                                    header_rules.keep_retry_after(headers or {}))


# RFC 6749 §4.1.2.1's name for a server that cannot answer for now.
UNAVAILABLE = "temporarily_unavailable"


def unavailable(message: str, *, retry_after: int, code: str = UNAVAILABLE) -> Response:
    """A 503 telling the client when to try again: a dependency is down (the database,
    Redis) or the server is too busy to answer in time."""
    return error_response(503, message, code=code, headers={"Retry-After": str(retry_after)})


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(TesseraError, _core_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def _csrf_error(_error: CSRFError) -> Response:
    transaction.abandon()
    return error_response(400, CSRF_MESSAGE, code="csrf_failed")


def _core_error(error: TesseraError) -> Response:
    transaction.settle(error)
    return current_surface().render_error(
        error, header_rules.keep_retry_after(header_rules.error_headers(error)))


def http_error(error: HTTPException) -> Response:
    transaction.abandon()
    status = error.code or 500
    description = None if status >= 500 else _custom_description(error)
    return error_response(status, description, headers=header_rules.error_headers(error))


def _custom_description(error: HTTPException) -> str | None:
    """Werkzeug's stock descriptions are generic: a surface words those itself."""
    return None if error.description == type(error).description else error.description


def unexpected_error(_error: Exception) -> Response:
    transaction.abandon()
    # Logged with its traceback for operators; the client sees a plain answer.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)
