"""Sign-ins through the JSON API: the session and tokens every dialect hands out.

Each dialect is a first-party application with a built-in client (`tessera-<dialect>`), so
its refresh tokens are bound to it like any client's, and the same session, token and
revocation rules hold for the JSON API as for OIDC: ending the session ends the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from app.core import accounts, consents, sessions, tokens
from app.core.context import ClientInfo
from app.core.errors import (
    AccountNotVerified,
    InvalidGrant,
    InvalidToken,
    Unauthenticated,
    ValidationError,
)
from app.core.services import setting
from app.extensions import db
from app.models import AuthSession, OAuthClient, User

API_SCOPE = "openid profile email"
API_DIALECTS = ("cosmicsync", "apiauth", "apiv1", "eventchain", "modernauth")


@dataclass
class IssuedTokens:
    user: User
    session: AuthSession
    access_token: str
    refresh_token: str | None  # None for documents that never hand one out (cosmicsync)
    expires_in: int


@dataclass
class Principal:
    """Who a bearer token speaks for."""

    user: User
    session: AuthSession | None
    claims: dict


def api_client_id(dialect: str) -> str:
    return f"tessera-{dialect}"


# Only tokens the JSON API itself issued speak to it: an access token a third-party app got
# through OIDC (for `profile email`, say) must not change passwords or delete accounts.
API_CLIENT_IDS = frozenset(api_client_id(dialect) for dialect in API_DIALECTS)


def _api_client(dialect: str) -> OAuthClient:
    """The dialect's built-in client, created on first use (safe under concurrency)."""
    client_id = api_client_id(dialect)
    client = db.session.get(OAuthClient, client_id)
    if client is not None:
        return client
    client = OAuthClient(client_id=client_id, name=f"Tessera JSON API ({dialect})",
                         redirect_uris=[], post_logout_redirect_uris=[], grant_types=[],
                         response_types=[], scope=API_SCOPE, token_endpoint_auth_method="none",
                         id_token_signed_response_alg=setting("ID_TOKEN_ALG"),
                         skip_consent=True)
    try:
        with db.session.begin_nested():
            db.session.add(client)
    except IntegrityError:
        client = db.session.get(OAuthClient, client_id)
    return client


def token_lifetime(dialect: str) -> int:
    return setting("API_TOKEN_TTLS").get(dialect, setting("ACCESS_TOKEN_TTL"))


def _issue(user: User, session: AuthSession, dialect: str, *,
           refresh: tuple[str, object] | None = None,
           with_refresh_token: bool = True) -> IssuedTokens:
    client = _api_client(dialect)
    consents.grant(user.id, client.client_id, set(API_SCOPE.split()), explicit=False)
    lifetime = token_lifetime(dialect)
    access_token, _ = tokens.issue_access_token(
        subject=str(user.id), client_id=client.client_id, scope=API_SCOPE,
        audience=setting("ISSUER"), session_id=session.id, lifetime=lifetime,
        extra_claims={"auth_time": int(session.auth_time.timestamp())})
    if refresh is None and with_refresh_token:
        refresh = tokens.issue_refresh_token(user_id=user.id, client_id=client.client_id,
                                             scope=API_SCOPE, session_id=session.id)
    return IssuedTokens(user=user, session=session, access_token=access_token,
                        refresh_token=refresh[0] if refresh else None, expires_in=lifetime)


def password_login(email: object, password: object, *, dialect: str, client: ClientInfo,
                   with_refresh_token: bool = True,
                   require_verified_email: bool = False) -> IssuedTokens:
    """Sign in with a password. With require_verified_email, an account whose email is not
    verified gets AccountNotVerified, but only after the password proved right (so the
    answer tells a stranger nothing)."""
    user = accounts.authenticate(email, password, client=client)
    if require_verified_email and not user.email_verified:
        raise AccountNotVerified()
    session, _secret = sessions.start_session(user, client=client, amr=["pwd"])
    return _issue(user, session, dialect, with_refresh_token=with_refresh_token)


def sign_in(user: User, *, amr: list[str], dialect: str, client: ClientInfo) -> IssuedTokens:
    """A session and tokens for a user core has already authenticated (a sign-in link)."""
    session, _secret = sessions.start_session(user, client=client, amr=amr)
    return _issue(user, session, dialect)


def start_for_new_user(user: User, *, dialect: str, client: ClientInfo) -> IssuedTokens:
    """Registration that signs the person in at once (documents that return a token)."""
    session, _secret = sessions.start_session(user, client=client, amr=["pwd"])
    return _issue(user, session, dialect)


def refresh(refresh_token: object, *, dialect: str) -> IssuedTokens:
    if not isinstance(refresh_token, str) or not refresh_token:
        raise InvalidGrant("The refresh token is missing.", field="refresh_token")
    plain, row, _old = tokens.rotate_refresh_token(refresh_token,
                                                   client_id=api_client_id(dialect))
    session = db.session.get(AuthSession, row.session_id)
    return _issue(session.user, session, dialect, refresh=(plain, row))


def refresh_with_access_token(access_token: str, *, dialect: str) -> IssuedTokens:
    """A new access token for a recently expired one (cosmicsync's refresh).

    Only a token we signed, whose session is still live, and that expired within the
    configured grace period; the session, not the stale token, is what is trusted.
    """
    grace = setting("API_EXPIRED_TOKEN_GRACE")
    claims = tokens.verify_access_token(access_token, allow_expired_for=grace)
    if claims.get("client_id") != api_client_id(dialect) or "sid" not in claims:
        raise InvalidToken("This token cannot be refreshed here.")
    session = sessions.live_session(claims["sid"])
    if session is None:
        raise InvalidToken("The session of this token has ended.")
    # Spent: one stale token buys one fresh token, not a stream of them.
    tokens.revoke_access_token(claims)
    return _issue(session.user, session, dialect, with_refresh_token=False)


def authenticate(access_token: str | None) -> Principal:
    if not access_token:
        raise Unauthenticated("A bearer token is required.")
    claims = tokens.verify_access_token(access_token)
    if claims.get("client_id") not in API_CLIENT_IDS:
        raise InvalidToken("This token was not issued by Tessera's JSON API.")
    user = accounts.get_user(claims["sub"])
    if user is None or not user.is_active or user.is_locked:
        raise InvalidToken("The token's user cannot sign in.")
    session = sessions.live_session(claims["sid"]) if "sid" in claims else None
    return Principal(user=user, session=session, claims=claims)


def logout(principal: Principal, *, client: ClientInfo) -> None:
    """End the token's session: its access and refresh tokens stop working at once."""
    if principal.session is not None:
        sessions.end_session(principal.session, reason="logout", client=client)
        tokens.revoke_for_session(principal.session.id, "logout")


def logout_with_refresh_token(refresh_token: object, *, dialect: str,
                              client: ClientInfo) -> None:
    row = tokens.find_refresh_token(refresh_token)
    if row is None or row.client_id != api_client_id(dialect) or row.session_id is None:
        raise InvalidToken("The refresh token is not valid.", field="refreshToken")
    session = db.session.get(AuthSession, row.session_id)
    if session is not None:
        sessions.end_session(session, reason="logout", client=client)
    tokens.revoke_for_session(row.session_id, "logout")


def logout_with_either(access_token: str | None, refresh_token: object, *, dialect: str,
                       client: ClientInfo) -> None:
    """Logout for documents whose body names a refresh token, with a bearer token welcome.

    The refresh token, when given, is authoritative: its session ends even if a stale
    access token rides along (which is then ignored). Without one, the bearer token must be
    valid and its session ends.
    """
    if refresh_token is None and not access_token:
        raise ValidationError("A refresh token is required.", field="refreshToken")
    if refresh_token is not None:
        logout_with_refresh_token(refresh_token, dialect=dialect, client=client)
    if access_token:
        try:
            caller = authenticate(access_token)
        except InvalidToken:
            if refresh_token is None:
                raise
            return
        logout(caller, client=client)


def revoke_all_sessions(user: User, *, client: ClientInfo) -> int:
    count = sessions.end_all_sessions(user, reason="revoked_all", client=client)
    tokens.revoke_for_user(user.id, "revoked_all")
    return count
