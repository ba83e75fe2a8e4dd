"""Recording security events. Callers pass facts, never secrets."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core.context import ClientInfo
from app.extensions import db
from app.models import AuditEvent

LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
LOGOUT = "logout"
SIGNUP = "signup"
PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name
PROFILE_UPDATED = "profile.updated"
SESSION_ENDED = "session.ended"


def record(event: str, *, user_id: uuid.UUID | None = None,
           session_id: uuid.UUID | None = None, client: ClientInfo | None = None,
           **details) -> AuditEvent:
    client = client or ClientInfo()
    entry = AuditEvent(
        event=event,
        user_id=user_id,
        session_id=session_id,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        details=details,
    )
    db.session.add(entry)
    return entry


LOGIN_EVENTS = (LOGIN_SUCCEEDED, LOGIN_FAILED, LOGOUT, SESSION_ENDED)


def events_for_user(user_id: uuid.UUID, *, kinds: tuple[str, ...] | None = None,
                    limit: int = 50) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.user_id == user_id)
        .order_by(AuditEvent.created_at.desc())
        .limit(limit)
    )
    if kinds:
        query = query.where(AuditEvent.event.in_(kinds))
    return list(db.session.scalars(query))

ACCOUNT_DEACTIVATED = "account.deactivated"
ACCOUNT_DELETED = "account.deleted"
ACCOUNT_UNLOCKED = "account.unlocked"

EMAIL_VERIFICATION_SENT = "email.verification_sent"
EMAIL_VERIFIED = "email.verified"
PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - an event name
PASSWORD_RESET = "password.reset"  # noqa: S105 - an event name
MAGIC_LINK_SENT = "magic_link.sent"
MAGIC_LINK_USED = "magic_link.used"
PHONE_CODE_SENT = "phone.code_sent"
PHONE_VERIFIED = "phone.verified"
# A link token or code refused (details: purpose, kind, reason; never the secret).
ONE_TIME_TOKEN_REJECTED = "one_time_token.rejected"  # noqa: S105 - an event name

MFA_TOTP_SETUP_STARTED = "mfa.totp_setup_started"
MFA_TOTP_ENABLED = "mfa.totp_enabled"
MFA_TOTP_DISABLED = "mfa.totp_disabled"
MFA_RECOVERY_CODES_GENERATED = "mfa.recovery_codes_generated"
MFA_EMAIL_ENABLED = "mfa.email_enabled"
MFA_EMAIL_DISABLED = "mfa.email_disabled"
MFA_EMAIL_CODE_SENT = "mfa.email_code_sent"
MFA_PASSKEY_ADDED = "mfa.passkey_added"
MFA_PASSKEY_RENAMED = "mfa.passkey_renamed"
MFA_PASSKEY_REMOVED = "mfa.passkey_removed"
MFA_PREFERRED_CHANGED = "mfa.preferred_changed"
MFA_CHALLENGE_STARTED = "mfa.challenge_started"
MFA_VERIFIED = "mfa.verified"  # a factor passed (method in details)
MFA_FAILED = "mfa.failed"  # a factor failed (method and reason in details)
MFA_TRUSTED_DEVICE_ADDED = "mfa.trusted_device_added"
MFA_TRUSTED_DEVICE_REVOKED = "mfa.trusted_device_revoked"
MFA_REAUTHENTICATED = "mfa.reauthenticated"
MFA_ADMIN_RESET = "mfa.admin_reset"
PASSKEY_LOGIN_FAILED = "passkey.login_failed"
