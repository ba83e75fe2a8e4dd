"""Sign-ins through the JSON API: the session and tokens every dialect hands out.

Each dialect is a first-party application with a built-in client (`tessera-<dialect>`), so
its refresh tokens are bound to it like any client's, and the same session, token and
revocation rules hold for the JSON API as for OIDC: ending the session ends the tokens.

Second factors: a first factor (password, sign-in link) of a user with MFA never yields
tokens by itself. Dialects whose document has an MFA step pass the methods it can check
(`mfa_methods`) and get a PendingLogin (its mfa_token goes to the client) that
finish_mfa_login completes; the others, and a user with none of those methods, get
MfaRequired. A pending login is bound to the dialect that started it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from app.core import accounts, audit, consents, session_bound, sessions, tokens
from app.core.context import ClientInfo
from app.core.errors import (
    AccountNotVerified,
    InvalidGrant,
    InvalidInput,
    InvalidToken,
    MfaChallengeInvalid,
    MfaRequired,
    Unauthenticated,
)
from app.core.mfa import challenges as mfa_challenges
from app.core.mfa import enrolment as mfa_enrolment
from app.core.mfa import login as mfa_login
from app.core.mfa import trusted_devices
from app.core.mfa.login import PendingLogin
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
    access_token, claims = tokens.issue_access_token(
        subject=str(user.id), client_id=client.client_id, scope=API_SCOPE,
        audience=setting("ISSUER"), session_id=session.id, lifetime=lifetime,
        extra_claims={"auth_time": int(session.auth_time.timestamp())})
    if refresh is None and with_refresh_token:
        refresh = tokens.issue_refresh_token(user_id=user.id, client_id=client.client_id,
                                             scope=API_SCOPE, session_id=session.id)
    if refresh is not None:
        tokens.pair_access_token(refresh[1], claims)
    return IssuedTokens(user=user, session=session, access_token=access_token,
                        refresh_token=refresh[0] if refresh else None, expires_in=lifetime)


def password_login(email: object, password: object, *, dialect: str, client: ClientInfo,
                   with_refresh_token: bool = True, require_verified_email: bool = False,
                   mfa_methods: Collection[str] = (), device_token: object = None,
                   application_id: str | None = None) -> IssuedTokens | PendingLogin:
    """Sign in with a password. With require_verified_email, an account whose email is not
    verified gets AccountNotVerified, but only after the password proved right (so the
    answer tells a stranger nothing). A user with MFA: see after_first_factor.
    application_id: the (already checked) application the login names, remembered on the
    session."""
    user = accounts.authenticate(email, password, client=client)
    if require_verified_email and not user.email_verified:
        raise AccountNotVerified()
    return after_first_factor(user, amr=["pwd"], dialect=dialect, client=client,
                              with_refresh_token=with_refresh_token, mfa_methods=mfa_methods,
                              device_token=device_token, application_id=application_id)


def sign_in(user: User, *, amr: list[str], dialect: str, client: ClientInfo,
            mfa_methods: Collection[str] = (), device_token: object = None
            ) -> IssuedTokens | PendingLogin:
    """A session and tokens for a user core has already authenticated by a first factor
    (a sign-in link); a user with MFA: see after_first_factor."""
    return after_first_factor(user, amr=amr, dialect=dialect, client=client,
                              mfa_methods=mfa_methods, device_token=device_token,
                              mailbox_proven=True)


def after_first_factor(user: User, *, amr: list[str], dialect: str, client: ClientInfo,
                       with_refresh_token: bool = True, mfa_methods: Collection[str] = (),
                       device_token: object = None, mailbox_proven: bool = False,
                       application_id: str | None = None) -> IssuedTokens | PendingLogin:
    """Tokens, unless the user has a second factor: then, given mfa_methods (the ones the
    dialect can check), a PendingLogin offering those (None of it when device_token names
    one of the user's trusted devices), and without, MfaRequired (after the first factor
    proved right, so a stranger learns nothing).

    mailbox_proven: the first factor was a link mailed to the account (a sign-in link); see
    app.core.mfa.login.begin (no email code then)."""
    if not mfa_methods:
        if mfa_enrolment.is_enabled(user):
            audit.record(audit.LOGIN_FAILED, user_id=user.id, client=client,
                         reason="mfa_required", dialect=dialect)
            raise MfaRequired("This account uses a second factor, which this API cannot "
                              "ask for. Sign in where the second factor is asked.")
        device = None
    else:
        # Checked here rather than by begin(), so the session can be tied to the device.
        device = trusted_devices.verify(user, device_token)
        pending = None if device is not None else mfa_login.begin(
            user, amr=amr, client=client, mailbox_proven=mailbox_proven, methods=mfa_methods,
            context={"dialect": dialect, "refresh_token": with_refresh_token,
                     "application_id": application_id})
        if pending is not None:
            return pending
    session, _secret = sessions.start_session(user, client=client, amr=amr,
                                              application_id=application_id)
    if device is not None:
        trusted_devices.attach(device, session)
    return _issue(user, session, dialect, with_refresh_token=with_refresh_token)


def _pending_here(dialect: str, mfa_token: object, user_id: object) -> None:
    """Raise the challenge errors unless a live pending login started in this dialect."""
    if mfa_token is None and user_id is None:
        raise InvalidInput("Send the mfa_token of the pending login.", field="mfa_token")
    challenge = mfa_challenges.find(mfa_token=mfa_token, user_id=user_id)
    if (challenge.context or {}).get("dialect") != dialect:
        raise MfaChallengeInvalid()


def send_mfa_email_code(*, mfa_token: object = None, user_id: object = None, dialect: str,
                        client: ClientInfo) -> None:
    """Mail a sign-in code for a pending login of this dialect."""
    _pending_here(dialect, mfa_token, user_id)
    mfa_login.send_email_code(mfa_token=mfa_token, user_id=user_id, client=client)


def mfa_passkey_options(*, mfa_token: object = None, user_id: object = None,
                        dialect: str) -> dict:
    """{"publicKey": ...} asking for a passkey of this dialect's pending login."""
    _pending_here(dialect, mfa_token, user_id)
    return mfa_login.passkey_options(mfa_token=mfa_token, user_id=user_id)


def finish_mfa_login(*, method: object, value: object, mfa_token: object = None,
                     user_id: object = None, dialect: str, client: ClientInfo,
                     remember_device: bool = False) -> tuple[IssuedTokens, str | None]:
    """Complete a pending login of this dialect with a second factor (one of its attempts
    spent first; see app.core.mfa.login.complete for the errors). Returns the tokens and,
    when remember_device, the trusted-device token the client presents at its next login."""
    _pending_here(dialect, mfa_token, user_id)
    done = mfa_login.complete(method=method, value=value, mfa_token=mfa_token,
                              user_id=user_id, client=client,
                              remember_device=remember_device)
    session, _secret = sessions.start_session(
        done.user, client=client, amr=done.amr,
        application_id=done.context.get("application_id"))
    if done.trusted_device_token:
        device = trusted_devices.verify(done.user, done.trusted_device_token)
        if device is not None:
            trusted_devices.attach(device, session)
    issued = _issue(done.user, session, dialect,
                    with_refresh_token=bool(done.context.get("refresh_token", True)))
    return issued, done.trusted_device_token


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
    session = session_bound.live_session(claims["sid"])
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
    if not session_bound.may_hold_tokens(user):
        raise InvalidToken("The token's user cannot sign in.")
    session = session_bound.live_session(claims["sid"]) if "sid" in claims else None
    if session is not None:
        sessions.note_token_use(session)
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
        raise InvalidInput("A refresh token is required.", field="refreshToken")
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
    """Sign out everywhere: every session and token ends, and no device stays trusted."""
    count = sessions.end_all_sessions(user, reason="revoked_all", client=client)
    tokens.revoke_for_user(user.id, "revoked_all")
    trusted_devices.revoke_all(user, reason="revoked_all", client=client)
    return count


def end_user_session(user: User, session_id: object, *, client: ClientInfo) -> None:
    """End one of the user's own sessions and its tokens (NotFound for anyone else's)."""
    session = sessions.end_user_session(user, session_id, client=client)
    tokens.revoke_for_session(session.id, "ended_by_user")


def end_other_sessions(principal: Principal, *, reason: str, client: ClientInfo) -> int:
    """End every session of the caller's user but the caller's own (after a factor change,
    when asked)."""
    keep = principal.session.id if principal.session is not None else None
    return sessions.end_all_sessions(principal.user, reason=reason, client=client,
                                     except_session_id=keep)
