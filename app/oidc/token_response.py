"""The token endpoint's successful answer, for every grant (RFC 6749 §5.1, OIDC Core §3.1.3.3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.core import tokens
from app.core.services import setting
from app.models import AuthorizationCode, OAuthClient, RefreshToken, User
from app.oidc.claims import SUPPORTED_CLAIMS, USERINFO_CLAIMS
from app.oidc.id_token import issue_id_token

# Scopes that describe a person; a client acting for itself never gets them.
IDENTITY_SCOPES = frozenset({"openid", "offline_access", "profile", "email", "phone", "address"})


@dataclass
class Grantee:
    """The person a user grant acts for, and how they signed in."""

    user: User
    session_id: uuid.UUID | None
    auth_time: int | None
    amr: list[str] = field(default_factory=list)
    acr: str | None = None
    nonce: str | None = None
    requested_claims: dict | None = None


@dataclass
class Issued:
    body: dict
    access_claims: dict
    refresh_row: RefreshToken | None


def for_user(client: OAuthClient, grantee: Grantee, scope: str, *,
             refresh: tuple[str, RefreshToken] | None = None, new_refresh: bool = False,
             nonce_in_id_token: bool = True) -> Issued:
    """Access token, optional refresh token, and an ID token when `openid` was granted.

    refresh: a refresh token already minted (rotation); new_refresh: mint the first one.
    """
    extra = {"auth_time": grantee.auth_time} if grantee.auth_time else {}
    asked = sorted(name for name in (grantee.requested_claims or {}).get("userinfo") or {}
                   if name in SUPPORTED_CLAIMS)
    if asked:
        extra[USERINFO_CLAIMS] = asked
    access_token, claims = tokens.issue_access_token(
        subject=str(grantee.user.id), client_id=client.client_id, scope=scope,
        audience=setting("ISSUER"), session_id=grantee.session_id, extra_claims=extra or None,
    )
    body = _bearer(access_token, claims, scope)
    refresh_row = None
    if refresh is None and new_refresh:
        refresh = tokens.issue_refresh_token(user_id=grantee.user.id, client_id=client.client_id,
                                             scope=scope, session_id=grantee.session_id)
    if refresh is not None:
        body["refresh_token"], refresh_row = refresh
        tokens.pair_access_token(refresh_row, claims)
    if "openid" in scope.split():
        body["id_token"] = issue_id_token(
            client=client, user=grantee.user, scope=scope, session_id=grantee.session_id,
            auth_time=grantee.auth_time, amr=grantee.amr, acr=grantee.acr,
            nonce=grantee.nonce if nonce_in_id_token else None, access_token=access_token,
            requested_claims=(grantee.requested_claims or {}).get("id_token"),
        )
    return Issued(body=body, access_claims=claims, refresh_row=refresh_row)


def for_client(client: OAuthClient, scope: str) -> dict:
    """client_credentials: the client acts for itself; its client_id is the subject."""
    scope = " ".join(item for item in scope.split() if item not in IDENTITY_SCOPES)
    access_token, claims = tokens.issue_access_token(
        subject=client.client_id, client_id=client.client_id, scope=scope,
        audience=setting("ISSUER"), session_id=None,
    )
    return _bearer(access_token, claims, scope)


def _bearer(access_token: str, claims: dict, scope: str) -> dict:
    body = {"access_token": access_token, "token_type": "Bearer",
            "expires_in": claims["exp"] - claims["iat"]}
    if scope:
        body["scope"] = scope
    return body


def grantee_from_code(row: AuthorizationCode, user: User) -> Grantee:
    return Grantee(user=user, session_id=row.session_id, auth_time=row.get_auth_time(),
                   amr=row.get_amr(), acr=row.acr, nonce=row.nonce,
                   requested_claims=row.claims)
