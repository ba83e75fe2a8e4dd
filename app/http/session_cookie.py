"""The browser's sign-in cookie: a random secret naming a server-side session row.

HttpOnly, SameSite=Lax, and Secure with the `__Host-` prefix when the issuer is https.
Views ask for the cookie to be set or cleared; the request edge writes it on the response.
"""

from __future__ import annotations

from flask import Response, current_app, g, request

from app.core import sessions
from app.models import AuthSession


def cookie_name() -> str:
    return "__Host-tessera_session" if current_app.config["SECURE_COOKIES"] else "tessera_session"


def load_current_session() -> AuthSession | None:
    """Resolve (once per request) the session the cookie names."""
    if "auth_session" not in g:
        g.auth_session = sessions.resolve_session(request.cookies.get(cookie_name()))
        if g.auth_session is None and request.cookies.get(cookie_name()):
            g.session_cookie_action = ("clear", None)
    return g.auth_session


def leave_unresolved() -> None:
    """Answer as signed out without looking the cookie up (the database is unavailable, or
    the request is being shed), and leave the browser's cookie as it is."""
    g.auth_session = None
    g.pop("session_cookie_action", None)


def current_session() -> AuthSession | None:
    return g.get("auth_session")


def remember(session: AuthSession, secret: str) -> None:
    g.auth_session = session
    g.session_cookie_action = ("set", secret)


def forget() -> None:
    g.auth_session = None
    g.session_cookie_action = ("clear", None)


def write_cookie(response: Response) -> None:
    action, secret = g.get("session_cookie_action", (None, None))
    secure = current_app.config["SECURE_COOKIES"]
    if action == "set":
        response.set_cookie(
            cookie_name(), secret, max_age=current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
            path="/", secure=secure, httponly=True, samesite="Lax",
        )
    elif action == "clear":
        response.delete_cookie(cookie_name(), path="/", secure=secure, httponly=True,
                               samesite="Lax")
