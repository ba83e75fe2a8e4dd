"""Trusted devices: a browser that finished MFA may skip it for TESSERA_TRUSTED_DEVICE_DAYS.

The browser keeps a random 256-bit token in a cookie (COOKIE_NAME, max_age()); only its
SHA-256 is stored, bound to one user. A device stops counting when it expires, is revoked
(one by one, or all at once by "sign out everywhere" or an MFA reset), or when the account's
password changes after it was trusted, so a password reset revokes every device without
the reset code having to know about them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import MfaNotEnabled, NotFound
from app.core.mfa import enrolment, recent_auth
from app.core.services import setting
from app.extensions import db
from app.models import AuthSession, TrustedDevice, User
from app.models.types import utcnow

COOKIE_NAME = "tessera_trusted_device"
TOKEN_MAX_LENGTH = 128


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def max_age() -> int:
    """Seconds the cookie should live (the trust period)."""
    return setting("TRUSTED_DEVICE_DAYS") * 24 * 3600


def _counts(device: TrustedDevice, user: User) -> bool:
    if device.revoked_at is not None or utcnow() >= device.expires_at:
        return False
    return user.password_changed_at is None or device.created_at > user.password_changed_at


def issue(user: User, *, client: ClientInfo | None = None,
          session: AuthSession | None = None) -> tuple[TrustedDevice, str]:
    """Trust this browser; returns the row and the token to set as the cookie value.
    `session`: the session on this device, if one is already open (see attach)."""
    client = client or ClientInfo()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    device = TrustedDevice(user_id=user.id, token_hash=_digest(token),
                           label=client.user_agent, ip_address=client.ip_address,
                           created_at=now, expires_at=now + timedelta(seconds=max_age()),
                           session_id=session.id if session is not None else None)
    db.session.flush()  # the session first (see attach)
    db.session.add(device)
    db.session.flush()
    audit.record(audit.MFA_TRUSTED_DEVICE_ADDED, user_id=user.id, client=client,
                 device_id=str(device.id))
    return device, token


def verify(user: User, token: object) -> TrustedDevice | None:
    """The user's live device the cookie token names (its last use noted), or None."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    device = db.session.scalar(select(TrustedDevice).where(
        TrustedDevice.token_hash == _digest(token)))
    if device is None or device.user_id != user.id or not _counts(device, user):
        return None
    device.last_used_at = utcnow()
    return device


def attach(device: TrustedDevice, session: AuthSession) -> None:
    """Note `session` as the newest one started on the device (a login that skipped MFA
    with its token, or the login that trusted it)."""
    # The session may still be pending. Nothing maps the link as a relationship, so the
    # unit of work could write this UPDATE before the session's INSERT, and PostgreSQL
    # checks the foreign key at once: write the session first.
    db.session.flush()
    device.session_id = session.id


def trust_session(user: User, session: AuthSession | None, *,
                  client: ClientInfo | None = None) -> tuple[TrustedDevice, str]:
    """Trust the device a signed-in session runs on (an API client asking to skip MFA
    there); any device the session was already trusted on is replaced. Returns the row and
    the token the client presents at later logins.

    Raises ReauthenticationRequired unless the session is recent (the token must not turn
    an old session into 30 days without MFA), MfaNotEnabled when there is no second factor
    to skip."""
    recent_auth.require(session, user)
    if not enrolment.is_enabled(user):
        raise MfaNotEnabled("Turn on a second factor before trusting a device.")
    previous = for_session(user, session.id)
    if previous is not None:
        previous.revoked_at = utcnow()
    return issue(user, client=client, session=session)


def for_session(user: User, session_id: object) -> TrustedDevice | None:
    """The live trusted device the session was started on, or None."""
    try:
        key = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        return None
    rows = db.session.scalars(select(TrustedDevice).where(
        TrustedDevice.user_id == user.id, TrustedDevice.session_id == key,
        TrustedDevice.revoked_at.is_(None)).order_by(TrustedDevice.created_at.desc()))
    return next((device for device in rows if _counts(device, user)), None)


def list_for_user(user: User) -> list[TrustedDevice]:
    """The devices that still skip MFA, newest first."""
    rows = db.session.scalars(select(TrustedDevice).where(
        TrustedDevice.user_id == user.id, TrustedDevice.revoked_at.is_(None))
        .order_by(TrustedDevice.created_at.desc()))
    return [device for device in rows if _counts(device, user)]


def revoke(user: User, device_id: object, *, client: ClientInfo | None = None) -> None:
    """Stop trusting one of the user's devices; any other id is NotFound."""
    try:
        key = device_id if isinstance(device_id, uuid.UUID) else uuid.UUID(str(device_id))
    except ValueError:
        raise NotFound("Device not found.", field="device_id") from None
    device = db.session.get(TrustedDevice, key)
    if device is None or device.user_id != user.id or device.revoked_at is not None:
        raise NotFound("Device not found.", field="device_id")
    device.revoked_at = utcnow()
    audit.record(audit.MFA_TRUSTED_DEVICE_REVOKED, user_id=user.id, client=client,
                 device_id=str(device.id))


def revoke_all(user: User, *, reason: str, client: ClientInfo | None = None) -> int:
    """Stop trusting every device of the user (sign out everywhere, MFA reset); the count."""
    result = db.session.execute(
        update(TrustedDevice)
        .where(TrustedDevice.user_id == user.id, TrustedDevice.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    if result.rowcount:
        audit.record(audit.MFA_TRUSTED_DEVICE_REVOKED, user_id=user.id, client=client,
                     scope="all", reason=reason, count=result.rowcount)
    return result.rowcount
