"""Recent authentication: changing a factor needs a password or MFA check a moment ago.

A session counts as recent while its auth_time is within TESSERA_MFA_RECENT_AUTH seconds.
A person whose session is older proves themself again with confirm_password() here or
factors.confirm_factor() (a second factor: that module is built on the factors, which use
this one), both of which move auth_time forward (as OIDC's max_age re-authentication does).
"""

from __future__ import annotations

from datetime import timedelta

from app.core import accounts, audit
from app.core.context import ClientInfo
from app.core.errors import InvalidInput, ReauthenticationRequired, WrongPassword
from app.core.mfa import amr as amr_values
from app.core.services import setting
from app.models import AuthSession, User
from app.models.types import utcnow


def is_recent(session: AuthSession | None) -> bool:
    """True if the session is live and authenticated within TESSERA_MFA_RECENT_AUTH seconds."""
    if session is None or session.ended_at is not None:
        return False
    window = timedelta(seconds=setting("MFA_RECENT_AUTH"))
    return utcnow() - session.auth_time <= window


def require(session: AuthSession | None, user: User) -> None:
    """Raise ReauthenticationRequired unless `session` is the user's and recent."""
    if session is None or session.user_id != user.id or not is_recent(session):
        raise ReauthenticationRequired()


def mark_fresh(session: AuthSession, amr: list[str]) -> None:
    """Record a re-authentication on the session: auth_time now, its amr values added."""
    session.auth_time = utcnow()
    session.amr = amr_values.combine(session.amr or [], amr)


def check_password(user: User, password: object, *, client: ClientInfo | None = None,
                   field: str = "password") -> None:
    """Re-check the account's password (counted per account: accounts.recheck_password).
    Raises InvalidInput when missing, RateLimited when too many tries, WrongPassword when
    wrong."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("Password is required.", field=field)
    try:
        accounts.recheck_password(user, password, field=field)
    except WrongPassword:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client, method="password",
                     reason="wrong_password")
        raise


def confirm_password(session: AuthSession, password: object, *,
                     client: ClientInfo | None = None) -> None:
    """Re-authenticate the session's user by password; see check_password for errors."""
    check_password(session.user, password, client=client)
    mark_fresh(session, [amr_values.PASSWORD])
    audit.record(audit.MFA_REAUTHENTICATED, user_id=session.user_id, session_id=session.id,
                 client=client, method="password")
