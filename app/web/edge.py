"""The request edge: who is signed in, one transaction per request, security headers."""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request

from app.extensions import db, login_manager
from app.web import session_cookie

WEBAUTHN_PREFIX = "/webauthn/"  # app/web/passkey_api.py


def register(app: Flask) -> None:
    login_manager.request_loader(_load_user)
    # flask-login would otherwise also look in Flask's session cookie; the server-side
    # session row is the only source of truth.
    login_manager.user_loader(lambda _user_id: None)
    app.before_request(_make_csp_nonce)
    app.before_request(_load_session)
    app.after_request(_finish)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")


def _load_user(_request):
    session = session_cookie.load_current_session()
    return session.user if session else None


def _load_session() -> None:
    # Resolved up front so every template knows who is signed in without a late query.
    if request.endpoint != "static":
        session_cookie.load_current_session()


def _make_csp_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _finish(response: Response) -> Response:
    db.session.commit()
    session_cookie.write_cookie(response)
    _add_security_headers(response)
    return response


def _add_security_headers(response: Response) -> None:
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-XSS-Protection"] = "1; mode=block"
    if current_app.config["SECURE_COOKIES"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if _is_json_api():
        # JSON API answers carry tokens, TOTP secrets, backup codes and personal data: no
        # cache may keep one (RFC 6749 §5.1 asks this of token responses), errors included.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    elif session_cookie.current_session() is not None or g.get("session_cookie_action"):
        # Pages for a signed-in person must not be stored by shared caches.
        response.headers.setdefault("Cache-Control", "no-store")


def _is_json_api() -> bool:
    """Is this an answer of a JSON dialect (any path under its mount, so its 404s and 405s
    too) or of the pages' WebAuthn JSON?"""
    from app.api.registry import dialect_for_path

    return (request.path.startswith(WEBAUTHN_PREFIX)
            or dialect_for_path(current_app, request.path) is not None)
