"""Errors at the edge: a themed page for people, JSON for machine endpoints, never a trace."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import RateLimited, TesseraError
from app.extensions import db

# Paths answered in JSON; everything else is a page for a person.
JSON_PREFIXES = ("/health", "/.well-known/", "/oauth2/token", "/oauth2/introspect",
                 "/oauth2/revoke", "/oauth2/userinfo", "/openapi/", "/webauthn/")

PAGE_TEXT = {
    400: ("Bad request", "Something in that request was not right. Go back and try again."),
    401: ("Sign-in required", "Sign in to continue."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Page not found", "The page you asked for does not exist."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    413: ("Too large", "That request was larger than Tessera accepts."),
    429: ("Slow down", "Too many attempts. Wait a moment and try again."),
    500: ("Something went wrong", "An unexpected error occurred. It has been logged."),
}


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(TesseraError, _core_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def settle(error: TesseraError) -> None:
    """Keep a durable error's side effects (attempt counts, audit); drop anything else."""
    if error.durable:
        db.session.commit()
    else:
        db.session.rollback()


def error_headers(error: TesseraError) -> dict[str, str]:
    """Headers an error carries whatever its rendering (Retry-After on a 429)."""
    return {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def render_error(status: int, message: str | None = None, code: str | None = None,
                 headers: dict | None = None):
    title, default_text = PAGE_TEXT.get(status, PAGE_TEXT[500 if status >= 500 else 400])
    if wants_json():
        body = {"error": code or title.lower().replace(" ", "_"),
                "error_description": message or default_text}
        response = jsonify(body)
    else:
        response = make_response(render_template("errors/error.html", status=status,
                                                 title=title, text=message or default_text))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _csrf_error(error: CSRFError):
    db.session.rollback()
    return render_error(400, "The form was missing its security token or it expired. "
                             "Reload the page and try again.", code="csrf_failed")


def _core_error(error: TesseraError):
    settle(error)
    return render_error(error.status, error.message, code=error.code,
                        headers=error_headers(error))


def _http_error(error: HTTPException):
    # Flask routes 404 and 405 before any blueprint handler runs: answer them in the
    # envelope of the JSON dialect that owns the path.
    from app.api.registry import dialect_for_path

    dialect = dialect_for_path(current_app, request.path)
    if dialect is not None:
        return dialect.http_error(error)
    db.session.rollback()
    status = error.code or 500
    headers = {}
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if status == 429 and retry_after:
        headers["Retry-After"] = str(retry_after)
    description = None if status >= 500 else _safe_description(error)
    return render_error(status, description, headers=headers)


def _safe_description(error: HTTPException) -> str | None:
    """Werkzeug's stock descriptions are generic; ours are friendlier for the common codes."""
    return None if error.description == type(error).description else error.description


def _unexpected_error(error: Exception):
    db.session.rollback()
    # Logged with its traceback for operators; the client sees a plain answer.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    from app.api.registry import dialect_for_path

    dialect = dialect_for_path(current_app, request.path)
    if dialect is not None:
        return dialect.error_response(500, "server_error", "An unexpected error occurred.")
    return render_error(500)
