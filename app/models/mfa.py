"""Second factors, passkeys, trusted devices and pending MFA logins.

No secret is stored as it was handed out: the TOTP secret is encrypted (it must be read back
to compute codes); recovery codes, device tokens and challenge tokens are stored as digests.
Everything single-use or counted is changed by a conditional UPDATE in core, never by
reading a value and writing it back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


def _user_fk(**kwargs):
    return mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), **kwargs)


class TotpFactor(db.Model):
    """A user's authenticator-app secret; at most one per user."""

    __tablename__ = "mfa_totp"

    user_id: Mapped[uuid.UUID] = _user_fk(primary_key=True)
    # AES-GCM (nonce + ciphertext), bound to the user id: a copied blob fails to decrypt.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None while set-up waits for its first valid code; only a confirmed factor counts.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The newest 30-second step a code was accepted for: that step and older never pass again.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecoveryCode(db.Model):
    """One single-use recovery code of a user's current set (HMAC digest only)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk(index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MfaSettings(db.Model):
    """Per-user MFA choices that are not a factor row of their own."""

    __tablename__ = "mfa_settings"

    user_id: Mapped[uuid.UUID] = _user_fk(primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # totp, webauthn or email; None lets core pick the strongest enabled one.
    preferred_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TrustedDevice(db.Model):
    """A browser that completed MFA and asked to be remembered (its cookie token hashed)."""

    __tablename__ = "mfa_trusted_devices"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(512), nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The newest session started on this device (trusted there, or signed in with its token),
    # so a list of sessions can say which ones sit on a trusted device.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("auth_sessions.id", ondelete="SET NULL"), nullable=True, index=True)


class MfaChallenge(db.Model):
    """A login halfway through: the first factor passed, a second one is awaited."""

    __tablename__ = "mfa_challenges"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = _user_fk(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The amr of the first step (["pwd"], or the magic link's), carried into the session.
    first_factor_amr: Mapped[list] = mapped_column(JSON, default=list)
    # What the caller needs to resume (dialect, parked authorization id); never a secret.
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebAuthnCredential(db.Model):
    """A passkey or security key registered to a user."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk(index=True)
    # The authenticator's raw credential id (up to 1023 bytes), unique across all users.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    # An unsigned 32-bit counter in WebAuthn: wider than a signed Integer.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100))
    aaguid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # single_device (bound to one authenticator) or multi_device (a synced passkey).
    device_type: Mapped[str] = mapped_column(String(16), default="single_device")
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebAuthnChallenge(db.Model):
    """A registration or authentication ceremony in progress; consumed once.

    Found by the SHA-256 of the challenge the browser signs (it is in clientDataJSON), so
    a finish request needs no handle of its own and any instance can complete it.
    """

    __tablename__ = "webauthn_challenges"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # register, authenticate (second factor, or re-authentication) or passwordless.
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
