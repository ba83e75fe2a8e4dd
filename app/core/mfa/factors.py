"""One entry point to check any second factor, for login challenges and re-authentication."""

from __future__ import annotations

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import InvalidInput
from app.core.mfa import amr, email_codes, passkeys, recent_auth, recovery_codes, totp
from app.models import AuthSession, User

TOTP = "totp"
WEBAUTHN = "webauthn"
EMAIL = "email"
RECOVERY_CODE = "recovery_code"
METHODS = (WEBAUTHN, TOTP, EMAIL, RECOVERY_CODE)  # strongest first


def verify(user: User, method: object, value: object, *,
           client: ClientInfo | None = None) -> list[str]:
    """Check `value` as the user's factor `method` and use it up; returns its amr values.

    value: the 6-digit code (totp, email), a recovery code, or the browser's
    credential.toJSON() (webauthn). Raises InvalidInput (unknown method), MfaNotEnabled,
    MfaInvalidCode / MfaCodeExpired, PasskeyInvalid / PasskeyChallengeInvalid, RateLimited.
    """
    if method == TOTP:
        totp.verify(user, value, client=client)
        earned = [amr.ONE_TIME_CODE]
    elif method == EMAIL:
        email_codes.verify(user, value, client=client)
        earned = [amr.ONE_TIME_CODE]
    elif method == RECOVERY_CODE:
        recovery_codes.consume(user, value, client=client)
        earned = [amr.ONE_TIME_CODE]
    elif method == WEBAUTHN:
        earned = passkeys.verify_authentication(value, user=user, client=client).amr
    else:
        raise InvalidInput("Unknown second-factor method; expected one of "
                           + ", ".join(METHODS) + ".", field="method")
    details = {"remaining": recovery_codes.remaining(user)} if method == RECOVERY_CODE else {}
    audit.record(audit.MFA_VERIFIED, user_id=user.id, client=client, method=method, **details)
    return earned


def confirm_factor(session: AuthSession, method: str, value: object, *,
                   client: ClientInfo | None = None) -> None:
    """Re-authenticate the session's user by a second factor (see recent_auth); raises
    what verify() raises (MfaInvalidCode, MfaNotEnabled, PasskeyInvalid, ...)."""
    values = verify(session.user, method, value, client=client)
    recent_auth.mark_fresh(session, values)
    audit.record(audit.MFA_REAUTHENTICATED, user_id=session.user_id, session_id=session.id,
                 client=client, method=method)
