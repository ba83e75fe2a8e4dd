"""POST /oauth2/introspect (RFC 7662): is this token active, and what is it?

Resource servers ask, so any authenticated confidential client may introspect any token; a
public client (auth method "none") may not introspect at all. Refresh tokens are told from
access tokens by their prefix, so token_type_hint is only a hint and an unknown one is
ignored (§2.1). An inactive, unknown or malformed token answers {"active": false} and
nothing more (§2.2): no reason, so introspection is no oracle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from authlib.oauth2 import rfc7662
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError

from app.core import tokens
from app.core.errors import InvalidToken
from app.core.services import setting
from app.extensions import db
from app.models import RefreshToken, User
from app.oidc.grants import TOKEN_ENDPOINT_AUTH_METHODS

# Every method the token endpoint accepts; each client still uses only its registered one.
CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS


@dataclass
class FoundToken:
    """A token presented to introspection or revocation, whatever its state."""

    value: str
    client_id: str | None
    active: bool
    claims: dict | None = None  # access tokens: the verified claims
    row: RefreshToken | None = None  # refresh tokens

    @property
    def is_refresh_token(self) -> bool:
        return self.row is not None

    def check_client(self, client) -> bool:
        """Was this token issued to this client?"""
        return self.client_id is not None and self.client_id == client.get_client_id()


def find_token(value: object) -> FoundToken | None:
    """The refresh token (by prefix) or access token a string names; None when it names
    nothing we issued. An access token that fails verification is simply not found: its
    claims cannot be trusted, so there is nothing to report or revoke."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith(tokens.REFRESH_PREFIX):
        row = tokens.find_refresh_token(value)
        if row is None:
            return None
        return FoundToken(value=value, client_id=row.client_id,
                          active=tokens.refresh_token_is_active(row), row=row)
    try:
        claims = tokens.verify_access_token(value)
    except InvalidToken:
        return None
    client_id = claims.get("client_id")
    return FoundToken(value=value, client_id=client_id if isinstance(client_id, str) else None,
                      active=True, claims=claims)


def authenticate_client(endpoint, request):
    """Authlib's client authentication with the endpoint's methods, every failure a 401
    (RFC 6749 §5.2 allows it always and requires it for Basic): one answer for bad
    credentials however they were sent."""
    try:
        client = endpoint.server.authenticate_client(request, endpoint.CLIENT_AUTH_METHODS,
                                                     endpoint.ENDPOINT_NAME)
    except InvalidClientError as error:
        error.status_code = 401
        raise
    request.client = client
    return client


def require_token_param(request) -> None:
    """token is required (§2.1); token_type_hint is only a hint, whatever its value."""
    if not request.form.get("token"):
        raise InvalidRequestError(description="The token parameter is required.")


def _user_of(subject: object) -> User | None:
    if isinstance(subject, uuid.UUID):
        return db.session.get(User, subject)
    try:
        return db.session.get(User, uuid.UUID(str(subject)))
    except ValueError:
        return None


class IntrospectionEndpoint(rfc7662.IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_endpoint_client(self, request):
        client = authenticate_client(self, request)
        if client.is_public:
            raise InvalidClientError(
                status_code=401,
                description="Introspection is for confidential clients: authenticate with "
                            "client_secret_basic or client_secret_post.")
        return client

    def check_params(self, request, client):
        require_token_param(request)

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def check_permission(self, token, client, request):
        # Resource servers introspect tokens issued to other clients: that is the point.
        return True

    def create_introspection_payload(self, token):
        if token is None or not token.active:
            return {"active": False}
        return self.introspect_token(token)

    def introspect_token(self, token: FoundToken) -> dict:
        if token.is_refresh_token:
            payload = self._refresh_token_payload(token.row)
        else:
            payload = self._access_token_payload(token.claims)
        return {name: value for name, value in payload.items() if value is not None}

    @staticmethod
    def _access_token_payload(claims: dict) -> dict:
        user = _user_of(claims["sub"])
        return {
            "active": True,
            "token_type": "Bearer",
            **{name: claims.get(name) for name in ("scope", "client_id", "sub", "aud", "iss",
                                                   "exp", "iat", "nbf", "jti", "sid")},
            "username": user.email if user is not None else None,
        }

    @staticmethod
    def _refresh_token_payload(row: RefreshToken) -> dict:
        user = _user_of(row.user_id) if row.user_id is not None else None
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": row.scope,
            "client_id": row.client_id,
            "sub": str(row.user_id) if row.user_id is not None else row.client_id,
            "iss": setting("ISSUER"),
            "exp": int(min(row.expires_at, row.idle_expires_at).timestamp()),
            "iat": int(row.created_at.timestamp()),
            "sid": str(row.session_id) if row.session_id is not None else None,
            "username": user.email if user is not None else None,
        }
