"""Recovery codes: ten single-use codes for when the other factors are out of reach.

Each code carries 50 random bits (ten Crockford base32 characters, shown as xxxxx-xxxxx).
Only an HMAC keyed by a key derived for this purpose and bound to the user is stored, so a
leaked table neither reveals nor lets anyone test codes. A new set replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import delete, func, select, update

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import MfaInvalidCode
from app.core.keys import derived_secret
from app.core.mfa import recent_auth
from app.extensions import db
from app.models import AuthSession, RecoveryCode, User
from app.models.types import utcnow

COUNT = 10
LENGTH = 10
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford: no i, l, o, u
# What people mistype for Crockford characters.
_LOOKALIKES = str.maketrans({"i": "1", "l": "1", "o": "0"})


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower().translate(_LOOKALIKES)


def _digest(user: User, normalized: str) -> str:
    key = derived_secret("mfa-recovery-code:v1")
    return hmac.new(key, f"{user.id}:{normalized}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def generate(user: User, *, session: AuthSession | None,
             client: ClientInfo | None = None) -> list[str]:
    """A new set of ten codes, to show once; every earlier code stops working.

    Raises ReauthenticationRequired unless the session is recent.
    """
    recent_auth.require(session, user)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(COUNT)]
    now = utcnow()
    db.session.add_all(RecoveryCode(user_id=user.id, digest=_digest(user, _normalize(code)),
                                    created_at=now) for code in codes)
    audit.record(audit.MFA_RECOVERY_CODES_GENERATED, user_id=user.id, client=client,
                 count=COUNT)
    return codes


def first_set(user: User, *, session: AuthSession | None,
              client: ClientInfo | None = None) -> list[str]:
    """Codes to show when a first factor is enabled and the user holds none ([] otherwise):
    someone who just came to depend on a second factor gets a way back in at once, and an
    existing set the person may have printed is never silently replaced."""
    if remaining(user):
        return []
    return generate(user, session=session, client=client)


def remaining(user: User) -> int:
    """How many unused codes the user has left."""
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def consume(user: User, code: object, *, client: ClientInfo | None = None) -> None:
    """Use one code. Raises MfaInvalidCode (durable) if it is unknown or already used."""
    normalized = _normalize(code) if isinstance(code, str) else ""
    if len(normalized) != LENGTH:
        raise MfaInvalidCode("Enter one of your recovery codes.", field="code")
    # The conditional UPDATE is the single-use guarantee: of two concurrent uses, one wins.
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id,
               RecoveryCode.digest == _digest(user, normalized),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client,
                     method="recovery_code", reason="wrong_code")
        raise MfaInvalidCode("That recovery code is not valid or was already used.",
                             field="code")


def delete_all(user: User) -> None:
    """Drop the user's codes (MFA reset)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
