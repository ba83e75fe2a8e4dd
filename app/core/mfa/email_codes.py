"""Six-digit codes sent by mail as a second factor.

Codes are one-time tokens of purpose MFA_EMAIL (app.core.mail.one_time_tokens): HMAC-stored,
single-use, valid TESSERA_MFA_EMAIL_CODE_TTL seconds, TESSERA_EMAIL_CODE_ATTEMPTS guesses
each; a new code retires the previous one. Sends to one address share the mail throttle
(TESSERA_MAIL_SEND_LIMIT).
"""

from __future__ import annotations

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import (
    InvalidInput,
    MfaAlreadyEnabled,
    MfaCodeExpired,
    MfaInvalidCode,
    MfaNotEnabled,
    OneTimeTokenExpired,
    OneTimeTokenInvalid,
    RateLimited,
)
from app.core.mail import mailer
from app.core.mail import one_time_tokens as ott
from app.core.mfa import recent_auth, user_settings
from app.core.services import services, setting
from app.models import AuthSession, User


def is_enabled(user: User) -> bool:
    row = user_settings.find(user)
    return bool(row and row.email_enabled)


def enable(user: User, *, session: AuthSession | None, client: ClientInfo | None = None) -> None:
    """Turn the email factor on. Raises ReauthenticationRequired, InvalidInput (the email
    address is not verified), MfaAlreadyEnabled."""
    recent_auth.require(session, user)
    if not user.email_verified:
        raise InvalidInput("Verify your email address before using it for sign-in codes.",
                           field="email")
    row = user_settings.get_or_create(user)
    if row.email_enabled:
        raise MfaAlreadyEnabled()
    row.email_enabled = True
    audit.record(audit.MFA_EMAIL_ENABLED, user_id=user.id, client=client)


def disable(user: User, *, session: AuthSession | None,
            client: ClientInfo | None = None) -> None:
    """Turn the email factor off; outstanding codes stop working. Raises
    ReauthenticationRequired, MfaNotEnabled."""
    recent_auth.require(session, user)
    if not is_enabled(user):
        raise MfaNotEnabled()
    user_settings.get_or_create(user).email_enabled = False
    ott.retire(user, ott.MFA_EMAIL)
    audit.record(audit.MFA_EMAIL_DISABLED, user_id=user.id, client=client)


def send(user: User, *, client: ClientInfo | None = None) -> None:
    """Mail a new code to the account's address (queued in this transaction). Raises
    MfaNotEnabled, RateLimited (too many messages to this address)."""
    if not is_enabled(user):
        raise MfaNotEnabled()
    retry_after = services().throttle.consume(setting("MAIL_SEND_LIMIT"), "mail",
                                              ott.MFA_EMAIL, user.email)
    if retry_after is not None:
        audit.record(audit.MFA_EMAIL_CODE_SENT, user_id=user.id, client=client, sent=False,
                     reason="throttled")
        raise RateLimited(retry_after=retry_after)
    code = ott.issue_code(user, ott.MFA_EMAIL)
    mailer.queue(user.email, "mfa_code", code=code,
                 minutes=max(1, setting("MFA_EMAIL_CODE_TTL") // 60))
    audit.record(audit.MFA_EMAIL_CODE_SENT, user_id=user.id, client=client, sent=True)


def verify(user: User, code: object, *, client: ClientInfo | None = None) -> None:
    """Use the current code once. Raises MfaNotEnabled, MfaCodeExpired, MfaInvalidCode
    (wrong, used, retired, or its guesses spent; durable)."""
    if not is_enabled(user):
        raise MfaNotEnabled()
    try:
        ott.consume_code(user, code, ott.MFA_EMAIL)
    except OneTimeTokenExpired:
        raise MfaCodeExpired(field="code") from None
    except OneTimeTokenInvalid:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client, method="email",
                     reason="wrong_code")
        raise MfaInvalidCode(field="code") from None
