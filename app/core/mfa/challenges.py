"""Pending MFA logins: the first factor passed, a second one is awaited.

Created only after a correct password (or magic link), a challenge is found by its opaque
mfa_token (256 bits, stored as SHA-256) or by its user (the newest live one: starting a new
challenge retires the user's earlier ones, and so does ending all of the user's sessions).
It lives TESSERA_MFA_CHALLENGE_TTL seconds, allows TESSERA_MFA_CHALLENGE_ATTEMPTS attempts,
each counted by a conditional UPDATE *before* the factor is checked (so concurrent guesses
cannot exceed the budget), and is finished once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import MfaAttemptsExceeded, MfaChallengeExpired, MfaChallengeInvalid
from app.core.services import setting
from app.extensions import db
from app.models import MfaChallenge, User
from app.models.types import utcnow

TOKEN_MAX_LENGTH = 128


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, *, amr: list[str], client: ClientInfo | None = None,
          context: dict | None = None) -> tuple[MfaChallenge, str]:
    """Open a challenge after the first factor (`amr`, e.g. ["pwd"]); returns the row and the
    mfa_token to hand to the client. `context` is kept for the caller (never a secret)."""
    now = utcnow()
    retire_all(user)
    token = secrets.token_urlsafe(32)
    challenge = MfaChallenge(
        id=uuid.uuid4(), token_hash=_digest(token), user_id=user.id, created_at=now,
        expires_at=now + timedelta(seconds=setting("MFA_CHALLENGE_TTL")), attempts=0,
        first_factor_amr=list(amr), context=dict(context or {}))
    db.session.add(challenge)
    audit.record(audit.MFA_CHALLENGE_STARTED, user_id=user.id, client=client,
                 challenge=str(challenge.id))
    return challenge, token


def retire_all(user: User) -> None:
    """End every pending login of the user: a new one starts, the user's sessions end
    (sign out everywhere, a new password), or an administrator resets the factors. A
    pending login is a session in the making; it must not outlive what ends sessions."""
    db.session.execute(update(MfaChallenge).where(
        MfaChallenge.user_id == user.id, MfaChallenge.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session="fetch"))


def find(*, mfa_token: object = None, user_id: object = None) -> MfaChallenge:
    """The live challenge named by its token, or else the user's newest one.

    Raises MfaChallengeInvalid (unknown, finished, or neither given), MfaChallengeExpired,
    MfaAttemptsExceeded (its budget is spent). The same errors whether or not a user exists.
    """
    challenge = None
    if isinstance(mfa_token, str) and 0 < len(mfa_token) <= TOKEN_MAX_LENGTH:
        challenge = db.session.scalar(select(MfaChallenge).where(
            MfaChallenge.token_hash == _digest(mfa_token)))
    elif mfa_token is None and user_id is not None:
        try:
            key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
        except ValueError:
            raise MfaChallengeInvalid(field="user_id") from None
        challenge = db.session.scalar(
            select(MfaChallenge).where(MfaChallenge.user_id == key,
                                       MfaChallenge.used_at.is_(None))
            .order_by(MfaChallenge.created_at.desc()).limit(1))
    _check_live(challenge)
    return challenge


def _check_live(challenge: MfaChallenge | None) -> None:
    if challenge is None or challenge.used_at is not None:
        raise MfaChallengeInvalid()
    if utcnow() >= challenge.expires_at:
        raise MfaChallengeExpired()
    if challenge.attempts >= setting("MFA_CHALLENGE_ATTEMPTS"):
        raise MfaAttemptsExceeded()


def spend_attempt(challenge: MfaChallenge) -> None:
    """Count one attempt, atomically, before the factor is checked. Raises
    MfaAttemptsExceeded when none is left (the spend is durable), MfaChallengeExpired,
    MfaChallengeInvalid (finished meanwhile)."""
    budget = setting("MFA_CHALLENGE_ATTEMPTS")
    spent = db.session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge.id, MfaChallenge.used_at.is_(None),
               MfaChallenge.expires_at > utcnow(), MfaChallenge.attempts < budget)
        .values(attempts=MfaChallenge.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.refresh(challenge)
    if spent.rowcount != 1:
        _check_live(challenge)
        raise MfaChallengeInvalid()


def attempts_left(challenge: MfaChallenge) -> int:
    return max(0, setting("MFA_CHALLENGE_ATTEMPTS") - challenge.attempts)


def finish(challenge: MfaChallenge) -> None:
    """Mark the challenge used; of two concurrent finishes only one passes (the other gets
    MfaChallengeInvalid)."""
    done = db.session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge.id, MfaChallenge.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise MfaChallengeInvalid()
    db.session.refresh(challenge)
