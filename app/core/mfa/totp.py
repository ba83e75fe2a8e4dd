"""Authenticator-app codes (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps).

A code is accepted for the current step or one step either side (clock drift), and never
twice: the newest accepted step is stored and a conditional UPDATE only moves it forward,
so a replayed code, or an older one, fails even when two requests race. The secret is kept
encrypted (app.core.sealing) and shown only during set-up.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, or_, update

from app.core import audit, upsert
from app.core.context import ClientInfo
from app.core.errors import MfaAlreadyEnabled, MfaInvalidCode, MfaNotEnabled, RateLimited
from app.core.mfa import recent_auth
from app.core.sealing import seal, unseal
from app.core.services import services, setting
from app.extensions import db
from app.models import AuthSession, TotpFactor, User
from app.models.types import utcnow

STEP_SECONDS = 30
DRIFT_STEPS = 1
CODE_PATTERN = re.compile(r"^[0-9]{6}$")
_KEY_PURPOSE = "mfa-totp-secret:v1"


@dataclass(frozen=True)
class TotpSetup:
    """What set-up shows once: the secret, the otpauth:// URI and that URI as a QR code."""

    secret: str
    uri: str
    qr_png_data_url: str


def _now() -> float:
    return time.time()  # one place to read the clock, so tests can stand at a step boundary


def _aad(user: User) -> bytes:
    return f"mfa-totp:{user.id}".encode()


def _factor(user: User) -> TotpFactor | None:
    return db.session.get(TotpFactor, user.id)


def _secret(user: User, factor: TotpFactor) -> str:
    return unseal(_KEY_PURPOSE, factor.secret_ciphertext, aad=_aad(user)).decode()


def is_enabled(user: User) -> bool:
    """True once set-up has been confirmed with a valid code."""
    factor = _factor(user)
    return factor is not None and factor.confirmed_at is not None


def setup_pending(user: User) -> bool:
    """True between begin_setup and the first valid code (enable)."""
    factor = _factor(user)
    return factor is not None and factor.confirmed_at is None


def begin_setup(user: User, *, session: AuthSession | None,
                client: ClientInfo | None = None) -> TotpSetup:
    """Create (or replace) an unconfirmed secret and return what the user scans.

    Raises ReauthenticationRequired unless the session is recent, MfaAlreadyEnabled if a
    confirmed TOTP factor exists (disable it first).
    """
    recent_auth.require(session, user)
    factor = _factor(user)
    if factor is not None and factor.confirmed_at is not None:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    ciphertext = seal(_KEY_PURPOSE, secret.encode(), aad=_aad(user))
    # An insert a concurrent set-up cannot turn into an error; whichever set-up writes
    # last is the one confirmed.
    if factor is None and not upsert.insert_or_keep(
            TotpFactor, {"user_id": user.id, "secret_ciphertext": ciphertext,
                         "created_at": utcnow()}, conflict=("user_id",)):
        factor = db.session.get(TotpFactor, user.id, populate_existing=True)
        if factor.confirmed_at is not None:
            raise MfaAlreadyEnabled()
    if factor is not None:
        factor.secret_ciphertext, factor.created_at, factor.last_used_step = (
            ciphertext, utcnow(), None)
    audit.record(audit.MFA_TOTP_SETUP_STARTED, user_id=user.id, client=client)
    return _setup(user, secret)


def current_setup(user: User, *, session: AuthSession | None) -> TotpSetup | None:
    """The set-up begun and not yet confirmed, shown again (a reloaded page, a mistyped
    code), or None. Raises ReauthenticationRequired unless the session is recent."""
    recent_auth.require(session, user)
    factor = _factor(user)
    if factor is None or factor.confirmed_at is not None:
        return None
    return _setup(user, _secret(user, factor))


def _setup(user: User, secret: str) -> TotpSetup:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                              issuer_name=setting("TOTP_ISSUER"))
    qr = segno.make(uri, error="m").png_data_uri(scale=5, border=2)
    return TotpSetup(secret=secret, uri=uri, qr_png_data_url=qr)


def enable(user: User, code: object, *, session: AuthSession | None,
           client: ClientInfo | None = None) -> None:
    """Confirm set-up with a code from the app; from then on TOTP is an MFA method.

    Raises ReauthenticationRequired, MfaNotEnabled (no set-up begun), MfaAlreadyEnabled,
    MfaInvalidCode (durable), RateLimited.
    """
    recent_auth.require(session, user)
    factor = _factor(user)
    if factor is None:
        raise MfaNotEnabled("Start setting up the authenticator app first.")
    if factor.confirmed_at is not None:
        raise MfaAlreadyEnabled()
    _check(user, factor, code, client=client)
    factor.confirmed_at = utcnow()
    audit.record(audit.MFA_TOTP_ENABLED, user_id=user.id, client=client)


def verify(user: User, code: object, *, client: ClientInfo | None = None) -> None:
    """Check a code of an enabled factor and use it up. Raises MfaNotEnabled,
    MfaInvalidCode (wrong, outside the drift window, or already used), RateLimited."""
    factor = _factor(user)
    if factor is None or factor.confirmed_at is None:
        raise MfaNotEnabled()
    _check(user, factor, code, client=client)


def disable(user: User, *, code: object = None, password: object = None,
            client: ClientInfo | None = None) -> None:
    """Remove the factor, proven by a current code or the account password.

    Raises MfaNotEnabled, MfaInvalidCode / WrongPassword, InvalidInput (neither given),
    RateLimited.
    """
    factor = _factor(user)
    if factor is None or factor.confirmed_at is None:
        raise MfaNotEnabled()
    if code is not None and code != "":
        _check(user, factor, code, client=client)
    else:
        recent_auth.check_password(user, password, client=client)
    db.session.delete(factor)
    db.session.flush()
    audit.record(audit.MFA_TOTP_DISABLED, user_id=user.id, client=client,
                 proof="code" if code else "password")


def delete_factor(user: User) -> None:
    """Drop the factor without any proof (MFA reset by an administrator)."""
    db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(_now()) // STEP_SECONDS
    matched = None
    # Every candidate is compared (no early exit), each in constant time.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def _check(user: User, factor: TotpFactor, code: object, *, client: ClientInfo | None) -> None:
    if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()):
        raise MfaInvalidCode("Enter the 6-digit code from your authenticator app.", field="code")
    retry_after = services().throttle.consume(setting("MFA_CODE_LIMIT"), "mfa-totp",
                                              str(user.id))
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)
    step = _matching_step(_secret(user, factor), code.strip())
    if step is None:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client, method="totp",
                     reason="wrong_code")
        raise MfaInvalidCode(field="code")
    accepted = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user.id,
               or_(TotpFactor.last_used_step.is_(None), TotpFactor.last_used_step < step))
        .values(last_used_step=step).execution_options(synchronize_session=False))
    if accepted.rowcount != 1:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client, method="totp",
                     reason="replayed_code")
        raise MfaInvalidCode("That code was already used. Wait for the next one.",
                             field="code")
    db.session.expire(factor, ["last_used_step"])
