"""Signing in with a second factor: the calls a login view makes, in order.

1. After the first factor succeeds, `begin()` says whether MFA is needed. None means no
   (no factor enrolled, or the browser is a trusted device): start the session with the
   first factor's amr. Otherwise it returns a PendingLogin whose mfa_token goes to the
   client (answer `mfa_required`).
2. Optionally `send_email_code()` or `passkey_options()` for the method the person picks.
3. `complete()` with the method and the code (or the passkey credential) returns the user
   and the session's amr, plus a trusted-device cookie token when asked to remember.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import (
    MfaChallengeInvalid,
    MfaInvalidCode,
    MfaNotEnabled,
    MfaRequired,
    PasskeyInvalid,
)
from app.core.mfa import amr as amr_values
from app.core.mfa import (
    challenges,
    email_codes,
    enrolment,
    factors,
    passkeys,
    trusted_devices,
)
from app.extensions import db
from app.models import MfaChallenge, User
from app.models.types import utcnow

# Context flag of a pending login whose first factor was a link mailed to the account.
MAILBOX = "mailbox"
# Context member: the only methods the caller can check (begin's `methods`).
ACCEPTED = "accepted_methods"
_SAME_MAILBOX = "A code by email cannot follow a sign-in link: both prove the same mailbox."


@dataclass(frozen=True)
class PendingLogin:
    """A login waiting for its second factor."""

    user: User
    challenge: MfaChallenge
    mfa_token: str
    methods: list[str]
    preferred: str | None
    expires_in: int


@dataclass(frozen=True)
class CompletedLogin:
    user: User
    amr: list[str]  # for sessions.start_session
    method: str
    context: dict = field(default_factory=dict)  # what begin() was given
    trusted_device_token: str | None = None  # set as trusted_devices.COOKIE_NAME


def begin(user: User, *, amr: list[str], client: ClientInfo | None = None,
          trusted_device_token: object = None, context: dict | None = None,
          mailbox_proven: bool = False,
          methods: Collection[str] | None = None) -> PendingLogin | None:
    """Call only after a correct password (or magic link), with that step's amr.

    Returns None when no second factor is needed, else a PendingLogin.

    methods: the only methods the caller can check (a JSON dialect whose document has no
    passkey ceremony); None for every one. A user with none of them gets MfaRequired.

    mailbox_proven: the first factor was a link mailed to the account (a sign-in link). A
    code by email would prove the same mailbox again, so it is left out of the methods
    (and refused by send_email_code and complete); a user whose only factor it is gets
    MfaRequired: sign in with the password instead. Noted in the context as "mailbox".
    """
    enabled = enrolment.enabled_methods(user)
    if not enabled or trusted_devices.verify(user, trusted_device_token) is not None:
        return None
    context = dict(context or {})
    if methods is not None:
        context[ACCEPTED] = list(methods)
    methods = _accepted(enabled, context)
    if not methods:
        raise MfaRequired("This account's second factor cannot be checked here. Sign in on "
                          "the hosted pages.")
    if mailbox_proven:
        methods = [method for method in methods if method != factors.EMAIL]
        if not methods:
            raise MfaRequired(_SAME_MAILBOX + " Sign in with your password.")
        context[MAILBOX] = True
    challenge, token = challenges.start(user, amr=amr, client=client, context=context)
    return PendingLogin(user=user, challenge=challenge, mfa_token=token, methods=methods,
                        preferred=enrolment.preferred_method(user, methods),
                        expires_in=int((challenge.expires_at - challenge.created_at)
                                       .total_seconds()))


def _accepted(methods: list[str], context: dict) -> list[str]:
    accepted = context.get(ACCEPTED)
    return methods if accepted is None else [method for method in methods
                                             if method in accepted]


def _methods(challenge: MfaChallenge, user: User) -> list[str]:
    """The methods this pending login accepts: the user's, narrowed to what its caller can
    check, and no email code after a sign-in link."""
    context = challenge.context or {}
    methods = _accepted(enrolment.enabled_methods(user), context)
    if context.get(MAILBOX):
        methods = [method for method in methods if method != factors.EMAIL]
    return methods


def _pending(mfa_token: object, user_id: object) -> tuple[MfaChallenge, User]:
    challenge = challenges.find(mfa_token=mfa_token, user_id=user_id)
    user = db.session.get(User, challenge.user_id)
    if user is None or not user.is_active or user.is_locked:
        raise MfaChallengeInvalid()
    return challenge, user


def pending(*, mfa_token: object = None, user_id: object = None) -> PendingLogin:
    """The live pending login again (a challenge page re-rendered): its user, methods and
    preferred one; mfa_token is what was given. Raises the challenge errors."""
    challenge, user = _pending(mfa_token, user_id)
    methods = _methods(challenge, user)
    return PendingLogin(user=user, challenge=challenge, mfa_token=str(mfa_token or ""),
                        methods=methods, preferred=enrolment.preferred_method(user, methods),
                        expires_in=max(0, int((challenge.expires_at - utcnow())
                                              .total_seconds())))


def send_email_code(*, mfa_token: object = None, user_id: object = None,
                    client: ClientInfo | None = None) -> None:
    """Mail a sign-in code for a pending login. Raises the challenge errors of
    challenges.find, MfaNotEnabled, RateLimited."""
    challenge, user = _pending(mfa_token, user_id)
    if (challenge.context or {}).get(MAILBOX):
        raise MfaNotEnabled(_SAME_MAILBOX, field="method")
    email_codes.send(user, client=client)


def passkey_options(*, mfa_token: object = None, user_id: object = None) -> dict:
    """{"publicKey": ...} to ask for one of the pending user's passkeys. Raises the
    challenge errors, MfaNotEnabled (no passkey)."""
    _challenge, user = _pending(mfa_token, user_id)
    return passkeys.authentication_options(user)


def complete(*, method: object, value: object, mfa_token: object = None,
             user_id: object = None, client: ClientInfo | None = None,
             remember_device: bool = False) -> CompletedLogin:
    """Check the second factor against the pending login and finish it.

    Each call spends one attempt first. Raises MfaChallengeInvalid / MfaChallengeExpired /
    MfaAttemptsExceeded, InvalidInput (unknown method), MfaNotEnabled (a method the user
    has not enabled: still an attempt), MfaInvalidCode / MfaCodeExpired / PasskeyInvalid /
    PasskeyChallengeInvalid (durable: the attempt is kept; details["attempts_left"] says
    how many remain, and at 0 the pending login is over), RateLimited.
    """
    challenge, user = _pending(mfa_token, user_id)
    challenges.spend_attempt(challenge)
    try:
        if method in factors.METHODS and method not in _methods(challenge, user):
            raise MfaNotEnabled(_SAME_MAILBOX if method == factors.EMAIL and (
                challenge.context or {}).get(MAILBOX) else None, field="method")
        earned = factors.verify(user, method, value, client=client)
    except (MfaInvalidCode, MfaNotEnabled, PasskeyInvalid) as exc:
        exc.durable = True  # MfaNotEnabled too: the spent attempt must be committed
        exc.details["attempts_left"] = challenges.attempts_left(challenge)
        if challenges.attempts_left(challenge) == 0:
            challenges.finish(challenge)  # spent: the person must sign in again
        raise
    challenges.finish(challenge)
    token = None
    if remember_device:
        _device, token = trusted_devices.issue(user, client=client)
    # A finished challenge is two independent factors by construction (an emailed code is
    # never offered after a sign-in link), so `mfa` holds even when both steps were one-time
    # secrets (a sign-in link, then an authenticator code: both `otp`).
    amr = amr_values.combine(challenge.first_factor_amr, earned, [amr_values.MULTI_FACTOR])
    return CompletedLogin(user=user, amr=amr, method=str(method),
                          context=dict(challenge.context or {}), trusted_device_token=token)


def passwordless_options() -> dict:
    """{"publicKey": ...} for a passkey sign-in without a user name (discoverable)."""
    return passkeys.authentication_options(None)


def passwordless(credential: object, *, client: ClientInfo | None = None
                 ) -> tuple[User, list[str]]:
    """Sign in with a discoverable passkey alone; returns the user and the session's amr
    (the key's, plus `mfa`: possession and the authenticator's user verification). Raises
    InvalidInput, PasskeyChallengeInvalid, PasskeyInvalid; an inactive or locked
    account's passkey is refused as PasskeyInvalid."""
    verified = passkeys.verify_authentication(credential, client=client)
    user = verified.user
    if not user.is_active or user.is_locked:
        audit.record(audit.PASSKEY_LOGIN_FAILED, user_id=user.id, client=client,
                     method="webauthn", reason="account_disabled")
        raise PasskeyInvalid(field="credential")
    audit.record(audit.MFA_VERIFIED, user_id=user.id, client=client, method="webauthn",
                 passwordless=True)
    return user, verified.amr + [amr_values.MULTI_FACTOR]
