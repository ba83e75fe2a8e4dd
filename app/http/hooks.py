"""The request hooks: who is signed in, one transaction per request, headers on every answer."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

from app.extensions import login_manager
from app.http import session_cookie, transaction
from app.http.headers import add_security_headers, forbid_caching, retry_after_only_on_refusals
from app.http.surfaces import current_surface


def register(app: Flask) -> None:
    login_manager.request_loader(_load_user)
    # flask-login would otherwise also look in Flask's session cookie; the server-side
    # session row is the only source of truth.
    login_manager.user_loader(lambda _user_id: None)
    app.before_request(_make_csp_nonce)
    app.before_request(_load_session)
    app.after_request(_finish)
    # First in the list, so it runs after flask-limiter's own hook (Flask calls
    # after_request functions in reverse order).
    app.after_request_funcs.setdefault(None, []).insert(0, retry_after_only_on_refusals)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")


def _load_user(_request):
    session = session_cookie.load_current_session()
    return session.user if session else None


def _load_session() -> None:
    # Resolved up front so every template knows who is signed in without a late query.
    if request.endpoint != "static" and current_surface().signed_in:
        session_cookie.load_current_session()


def _make_csp_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _finish(response: Response) -> Response:
    transaction.commit()
    session_cookie.write_cookie(response)
    add_security_headers(response)
    if current_surface().private:
        forbid_caching(response)
    elif session_cookie.current_session() is not None or g.get("session_cookie_action"):
        # Pages for a signed-in person must not be stored by shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
