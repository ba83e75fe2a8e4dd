"""WebAuthn ceremony challenges: random, single-use, short-lived rows any instance can read.

Only the SHA-256 of a challenge is stored; the finishing request finds its row by the
challenge the browser echoes in clientDataJSON, and a conditional UPDATE uses it once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, update

from app.core.errors import PasskeyChallengeInvalid
from app.core.services import setting
from app.extensions import db
from app.models import User, WebAuthnChallenge
from app.models.types import utcnow

REGISTER = "register"
AUTHENTICATE = "authenticate"  # a known user's passkey: second factor or re-authentication
PASSWORDLESS = "passwordless"  # a discoverable credential names the user


def _digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def create(purpose: str, user: User | None) -> bytes:
    """A new 32-byte challenge for the purpose (and user, None for passwordless)."""
    now = utcnow()
    # Expired rows are useless; clearing them here keeps the table small without a job.
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now))
    challenge = secrets.token_bytes(32)
    db.session.add(WebAuthnChallenge(
        challenge_hash=_digest(challenge), purpose=purpose,
        user_id=user.id if user is not None else None, created_at=now,
        expires_at=now + timedelta(seconds=setting("WEBAUTHN_CHALLENGE_TTL"))))
    return challenge


def consume(challenge: bytes, purpose: str, user: User | None) -> None:
    """Use the challenge once for this purpose and user (None: a passwordless one).
    Raises PasskeyChallengeInvalid if unknown, used, expired or issued for something else."""
    owner = (WebAuthnChallenge.user_id.is_(None) if user is None
             else WebAuthnChallenge.user_id == user.id)
    used = db.session.execute(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.challenge_hash == _digest(challenge),
               WebAuthnChallenge.purpose == purpose, owner,
               WebAuthnChallenge.used_at.is_(None), WebAuthnChallenge.expires_at > utcnow())
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        raise PasskeyChallengeInvalid()
