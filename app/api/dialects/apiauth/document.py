"""apiauth's dialect object: the `{"status": "fail"|"error", "message", "code"}` envelope,
its error table and limits, and how it finds its caller (the bearer token or the `jwt`
cookie).

The view modules of this package register their routes on `dialect`; this module imports
none of them.
"""

from __future__ import annotations

from flask import request

from app.api.common import bearer_token
from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect
from app.core import api_logins
from app.core.errors import Forbidden
from app.http import origin

COOKIE = "jwt"


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"status": "error" if status >= 500 else "fail", "message": message, "code": code}
    if field:
        body["field"] = field
    return body


def bearer_or_cookie() -> api_logins.Principal:
    """The caller, from `Authorization: Bearer` or else the `jwt` cookie.

    The browser attaches the cookie by itself, so a state change it authenticates must come
    from Tessera's own origin: a cross-site one is refused (403), or any site could make a
    signed-in browser act for the person."""
    token = bearer_token()
    if token is None:
        token = request.cookies.get(COOKIE) or None
        if token is not None and origin.is_state_change() and origin.is_cross_origin():
            raise Forbidden("A cross-site request cannot use the sign-in cookie; send the "
                            "token in the Authorization header.")
    return api_logins.authenticate(token)


dialect = Dialect(
    id="apiauth", title="User Authentication API", default_mount="/api/auth",
    error_body=error_body,
    # The document has no second-factor step: a user with MFA is refused, not let in.
    errors={"mfa_required": (403, "mfa_required")},
    rate_limits={**{key: DEFAULT_AUTH_LIMITS[key] for key in ("register", "login")},
                 "forgot_password": "5 per hour", "reset_password": "10 per 15 minutes"},
    authenticate=bearer_or_cookie,
)
