"""GET/POST /oauth2/userinfo (OpenID Connect Core §5.3): claims about the token's user.

The access token comes from the Authorization header (RFC 6750 §2.1) or an
application/x-www-form-urlencoded POST body (§2.2), never from the query string; two at once
is an invalid_request. Core checks the token (signature, expiry, session, consent, revoked
jti); this view adds what userinfo itself needs: the openid scope and a user who may still
sign in. Errors follow RFC 6750 §3: a WWW-Authenticate challenge and a JSON body.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from app.core import session_bound, tokens
from app.core.errors import InvalidToken, TokenExpired
from app.core.services import setting
from app.extensions import csrf, db
from app.models import User
from app.oidc.claims import USERINFO_CLAIMS, user_claims

bp = Blueprint("userinfo", __name__)
# Bearer tokens, not cookies, authenticate here: there is no form to protect.
csrf.exempt(bp)

FORM_TYPE = "application/x-www-form-urlencoded"


class BearerError(Exception):
    """An RFC 6750 §3 error; error None is the bare challenge for a request with no token."""

    def __init__(self, status: int, error: str | None, description: str = "",
                 scope: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scope = scope


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _challenge(error: BearerError) -> str:
    if error.error is None:
        return "Bearer"
    params = [f'error="{error.error}"', f'error_description="{_quoted(error.description)}"']
    if error.scope:
        params.append(f'scope="{error.scope}"')
    return "Bearer " + ", ".join(params)


def _error_response(error: BearerError):
    body = {"error": error.error or "invalid_token",
            "error_description": error.description or "An access token is required."}
    response = jsonify(body)
    response.status_code = error.status
    response.headers["WWW-Authenticate"] = _challenge(error)
    return response


def _invalid_request(description: str) -> BearerError:
    return BearerError(400, "invalid_request", description)


def _bearer_token() -> str:
    """The one access token of this request; BearerError when there is none or several."""
    if "access_token" in request.args:
        raise _invalid_request("Access tokens are not accepted in the query string.")
    found = []
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            credentials = credentials.strip()
            if not credentials or " " in credentials:
                raise _invalid_request("The Authorization header is malformed.")
            found.append(credentials)
    if request.method == "POST" and request.mimetype == FORM_TYPE:
        values = request.form.getlist("access_token")
        if len(values) > 1:
            raise _invalid_request("The access_token parameter is repeated.")
        if values:
            found.append(values[0])
    if len(found) > 1:
        raise _invalid_request("The access token was sent in more than one way.")
    if not found:
        raise BearerError(401, None)
    return found[0]


def _authorize() -> tuple[User, set[str], dict]:
    token = _bearer_token()
    try:
        claims = tokens.verify_access_token(token, audience=setting("ISSUER"))
    except TokenExpired as error:
        raise BearerError(401, "invalid_token", error.message) from None
    except InvalidToken as error:
        raise BearerError(401, "invalid_token", error.message) from None
    scope = claims.get("scope")
    scopes = set(scope.split()) if isinstance(scope, str) else set()
    if "openid" not in scopes:
        raise BearerError(403, "insufficient_scope",
                          "The access token does not carry the openid scope.", scope="openid")
    try:
        user_id = uuid.UUID(claims["sub"])
    except ValueError:
        raise BearerError(401, "invalid_token", "The access token is not a user's.") from None
    user = db.session.get(User, user_id)
    # Tokens with a session were checked against it by core; this covers the rest.
    if not session_bound.may_hold_tokens(user):
        raise BearerError(401, "invalid_token", "The user of this access token cannot sign in.")
    # Claims asked for one by one with the `claims` request parameter (OIDC Core §5.5).
    requested = dict.fromkeys(claims.get(USERINFO_CLAIMS) or [])
    return user, scopes, requested


@bp.route("/oauth2/userinfo", methods=["GET", "POST"])
def userinfo():
    try:
        user, scopes, requested = _authorize()
    except BearerError as error:
        return _error_response(error)
    return jsonify(user_claims(user, scopes, requested))
