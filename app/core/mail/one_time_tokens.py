"""One-time tokens for links in mail, and 6-digit codes, bound to a user and a purpose.

Link tokens carry 256 random bits (urlsafe) and are stored as SHA-256 digests; codes are
six digits stored as an HMAC keyed by the secret key (and bound to user and purpose), with
an attempt budget per code. Every token is single-use (an atomic conditional UPDATE marks
it used), expires after its purpose's TTL, and stops working if the address it was sent to
(the account's email, or its phone number for a code sent by SMS) changes. Issuing a new
token or code for a purpose retires the user's earlier unused ones (and, for a sign-in
link, the sign-up links sent to the address before the account existed).

Errors: OneTimeTokenInvalid (`token_invalid`: unknown, used, other purpose, other email),
CodeAttemptsExceeded (`token_invalid`: a code's guesses spent), OneTimeTokenExpired
(`token_expired`), WrongCode (`token_invalid`). A signed-out caller who names the account
by its address gets `consume_code_sent_to`, where every failure looks like a wrong code.
Every refused use is audited here (`one_time_token.rejected`: purpose, kind, reason, and the
user when known; never the token or code), and these errors are durable, so the event and a
spent attempt outlive the request's rollback.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import (
    CodeAttemptsExceeded,
    OneTimeTokenExpired,
    OneTimeTokenInvalid,
    WrongCode,
)
from app.core.services import setting
from app.extensions import db
from app.models import OneTimeToken, User
from app.models.types import utcnow

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
MAGIC_LINK = "magic_link"
VERIFY_PHONE = "verify_phone"  # a code sent by SMS
MFA_EMAIL = "mfa_email"  # a second-factor code sent by mail at login
TTL_SETTINGS = {VERIFY_EMAIL: "EMAIL_VERIFICATION_TTL", PASSWORD_RESET: "PASSWORD_RESET_TTL",
                MAGIC_LINK: "MAGIC_LINK_TTL", VERIFY_PHONE: "PHONE_VERIFICATION_TTL",
                MFA_EMAIL: "MFA_EMAIL_CODE_TTL"}
# Purposes that may have a token for an address with no account yet (sign-up links).
UNOWNED_PURPOSES = frozenset({MAGIC_LINK})
# Purposes whose codes go to the phone; every other goes to the email address.
PHONE_PURPOSES = frozenset({VERIFY_PHONE})
TOKEN_MAX_LENGTH = 128
CODE_PATTERN = re.compile(r"^[0-9]{6}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _code_digest(user_id, purpose: str, code: str) -> str:
    key = setting("SECRET_KEY").encode()
    return hmac.new(key, f"{purpose}:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def address_for(user: User, purpose: str) -> str | None:
    """Where a token of this purpose goes: the phone number or the email address."""
    return user.phone if purpose in PHONE_PURPOSES else user.email


def ttl(purpose: str) -> timedelta:
    return timedelta(seconds=setting(TTL_SETTINGS[purpose]))


def _retire(user: User, purpose: str, kind: str) -> None:
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user.id, OneTimeToken.purpose == purpose,
               OneTimeToken.kind == kind, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if purpose in UNOWNED_PURPOSES and kind == "link" and user.email:
        # Sign-up links sent to the address before the account existed go too.
        retire_for_address(user.email, purpose)


def retire_for_address(address: str, purpose: str) -> None:
    """Retire every unused account-less (sign-up) link of the purpose sent to the address."""
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id.is_(None), OneTimeToken.address == address,
               OneTimeToken.purpose == purpose, OneTimeToken.kind == "link",
               OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))


def _add(user: User, purpose: str, kind: str, digest: str) -> OneTimeToken:
    if purpose not in TTL_SETTINGS:
        raise ValueError(f"unknown one-time token purpose {purpose!r}")
    address = address_for(user, purpose)
    if not address:
        raise ValueError(f"user has no address for {purpose!r}")
    _retire(user, purpose, kind)
    now = utcnow()
    row = OneTimeToken(user_id=user.id, purpose=purpose, kind=kind, digest=digest,
                       address=address, attempts=0, created_at=now,
                       expires_at=now + ttl(purpose))
    db.session.add(row)
    return row


def retire(user: User, purpose: str) -> None:
    """Retire every unused token and code of the user for the purpose."""
    for kind in ("link", "code"):
        _retire(user, purpose, kind)


def issue(user: User, purpose: str) -> str:
    """A new link token for the user and purpose; only its digest is kept."""
    token = secrets.token_urlsafe(32)
    _add(user, purpose, "link", _digest(token))
    return token


def issue_for_address(address: str, purpose: str) -> str:
    """A link token for an address with no account yet (a sign-up link). Only purposes in
    UNOWNED_PURPOSES may have one; it is read back with `check_unowned`/`consume_unowned`.
    Like issue(), it retires the earlier unused ones sent to the address."""
    if purpose not in UNOWNED_PURPOSES:
        raise ValueError(f"{purpose!r} tokens always belong to an account")
    retire_for_address(address, purpose)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(OneTimeToken(user_id=None, purpose=purpose, kind="link",
                                digest=_digest(token), address=address, attempts=0,
                                created_at=now, expires_at=now + ttl(purpose)))
    return token


def _field(kind: str) -> str:
    return "token" if kind == "link" else "code"


def _reject(error: OneTimeTokenInvalid, *, purpose: str, kind: str, reason: str,
            user_id=None, client: ClientInfo | None = None) -> OneTimeTokenInvalid:
    """Audit a refused use (never the token or code itself) and return the error to raise.
    The error is durable, so the event outlives the request's rollback."""
    audit.record(audit.ONE_TIME_TOKEN_REJECTED, user_id=user_id, client=client,
                 purpose=purpose, kind=kind, reason=reason)
    return error


def _live(row: OneTimeToken | None, purpose: str, kind: str, *, unowned: bool = False,
          client: ClientInfo | None = None) -> tuple[OneTimeToken, User | None]:
    field = _field(kind)

    def reject(reason: str, error: type[OneTimeTokenInvalid] = OneTimeTokenInvalid):
        return _reject(error(field=field), purpose=purpose, kind=kind, reason=reason,
                       user_id=row.user_id if row is not None else None, client=client)

    if row is None or row.kind != kind:
        raise reject("unknown")
    if row.purpose != purpose:
        raise reject("wrong_purpose")
    if row.used_at is not None:
        raise reject("used")
    if utcnow() >= row.expires_at:
        raise reject("expired", OneTimeTokenExpired)
    if row.user_id is None:
        if not unowned:
            raise reject("no_account")
        return row, None
    user = db.session.get(User, row.user_id)
    if user is None or address_for(user, purpose) != row.address:
        raise reject("address_changed")
    return row, user


def _find(token: object) -> OneTimeToken | None:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return db.session.scalar(select(OneTimeToken).where(OneTimeToken.digest == _digest(token),
                                                        OneTimeToken.kind == "link"))


def check(token: object, purpose: str, *, client: ClientInfo | None = None) -> User:
    """The user a live token names, without using it (a page showing a form first)."""
    return _live(_find(token), purpose, "link", client=client)[1]


def check_unowned(token: object, purpose: str, *,
                  client: ClientInfo | None = None) -> tuple[User | None, str]:
    """(user, address) of a live token that may be a sign-up link (user None), unused."""
    row, user = _live(_find(token), purpose, "link", unowned=True, client=client)
    return user, row.address


def consume_unowned(token: object, purpose: str, *,
                    client: ClientInfo | None = None) -> tuple[User | None, str]:
    """Use a token that may be a sign-up link once; (user or None, address)."""
    row, user = _live(_find(token), purpose, "link", unowned=True, client=client)
    _use(row, "link", client)
    return user, row.address


def _use(row: OneTimeToken, kind: str, client: ClientInfo | None) -> None:
    # The conditional UPDATE is the single-use guarantee: of two concurrent uses, one wins.
    result = db.session.execute(
        update(OneTimeToken).where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _reject(OneTimeTokenInvalid(field=_field(kind)), purpose=row.purpose, kind=kind,
                      reason="used", user_id=row.user_id, client=client)


def consume(token: object, purpose: str, *, client: ClientInfo | None = None) -> User:
    """Use a link token once; returns its user."""
    row, user = _live(_find(token), purpose, "link", client=client)
    _use(row, "link", client)
    return user


def issue_code(user: User, purpose: str = VERIFY_EMAIL) -> str:
    """A new 6-digit code for the user and purpose (retiring the previous one)."""
    code = f"{secrets.randbelow(10 ** 6):06d}"
    _add(user, purpose, "code", _code_digest(user.id, purpose, code))
    return code


def _newest_code(*criteria) -> OneTimeToken | None:
    """The newest code row matching the criteria, used or not (issuing a code retires the
    earlier ones, so only the newest can still be live)."""
    return db.session.scalar(
        select(OneTimeToken).where(OneTimeToken.kind == "code", *criteria)
        .order_by(OneTimeToken.created_at.desc(), OneTimeToken.id.desc()).limit(1))


def _well_formed(code: object) -> bool:
    return isinstance(code, str) and bool(CODE_PATTERN.match(code.strip()))


def _spend_attempt(row: OneTimeToken, budget: int) -> bool:
    """Count one guess against the code, atomically; False when none was left."""
    spent = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None),
               OneTimeToken.attempts < budget)
        .values(attempts=OneTimeToken.attempts + 1)
        .execution_options(synchronize_session=False))
    return spent.rowcount == 1


def _after_wrong_guess(row: OneTimeToken, budget: int, client: ClientInfo | None) -> int:
    """Retire a code whose last guess was just spent; how many guesses are left."""
    db.session.refresh(row)
    if row.attempts >= budget:
        _use(row, "code", client)  # spent: a new code must be requested
    return max(0, budget - row.attempts)


def consume_code(user: User, code: object, purpose: str = VERIFY_EMAIL, *,
                 client: ClientInfo | None = None) -> None:
    """Use the user's current code once, for a caller who already knows the account (signed
    in, or past the password). Every guess spends one of its attempts
    (TESSERA_EMAIL_CODE_ATTEMPTS); when they are spent the code stops working.

    Errors (field `code`): OneTimeTokenInvalid (malformed, none sent, used or retired),
    CodeAttemptsExceeded (its guesses are spent), OneTimeTokenExpired, WrongCode
    (details["attempts_left"])."""
    def reject(error: OneTimeTokenInvalid, reason: str):
        return _reject(error, purpose=purpose, kind="code", reason=reason, user_id=user.id,
                       client=client)

    if not _well_formed(code):
        raise reject(OneTimeTokenInvalid("Enter the 6-digit code.", field="code"), "malformed")
    row = _newest_code(OneTimeToken.user_id == user.id, OneTimeToken.purpose == purpose)
    if row is None:
        raise reject(OneTimeTokenInvalid(field="code"), "no_code")
    budget = setting("EMAIL_CODE_ATTEMPTS")
    if row.used_at is not None and row.attempts >= budget:
        raise reject(CodeAttemptsExceeded(field="code"), "attempts_spent")
    row, _user = _live(row, purpose, "code", client=client)
    if not _spend_attempt(row, budget):
        raise reject(CodeAttemptsExceeded(field="code"), "attempts_spent")
    if not hmac.compare_digest(_code_digest(user.id, purpose, code.strip()), row.digest):
        left = _after_wrong_guess(row, budget, client)
        raise reject(WrongCode(field="code", attempts_left=left), "wrong_code")
    _use(row, "code", client)


def consume_code_sent_to(address: str, code: object, purpose: str, *,
                         client: ClientInfo | None = None) -> User:
    """Use the newest code of the purpose sent to the address (email or phone number), for
    a signed-out caller who names the account only by that address; returns its user.

    The answer must not tell who has an account, a code, or a live one: every failure is
    the WrongCode a wrong guess at a real code gets (no attempts_left either), after the
    same work. Only the right code is told more, which reveals nothing to anyone without
    it: OneTimeTokenExpired, CodeAttemptsExceeded, or OneTimeTokenInvalid (used, retired,
    or the account's address changed). A malformed code is refused alike for everyone."""
    row = _newest_code(OneTimeToken.address == address, OneTimeToken.purpose == purpose)

    def reject(reason: str, error: OneTimeTokenInvalid | None = None):
        return _reject(error or WrongCode(field="code"), purpose=purpose, kind="code",
                       reason=reason, user_id=row.user_id if row is not None else None,
                       client=client)

    if not _well_formed(code):
        raise reject("malformed", OneTimeTokenInvalid("Enter the 6-digit code.", field="code"))
    # The digest is computed whether or not there is a row, so both take the same time.
    digest = _code_digest(row.user_id if row is not None else None, purpose, code.strip())
    right = row is not None and hmac.compare_digest(digest, row.digest)
    budget = setting("EMAIL_CODE_ATTEMPTS")
    if row is None:
        raise reject("no_code")
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    if user is None or address_for(user, purpose) != address:
        raise reject("address_changed", OneTimeTokenInvalid(field="code") if right else None)
    if row.used_at is not None:
        spent = row.attempts >= budget
        raise reject("attempts_spent" if spent else "used",
                     (CodeAttemptsExceeded if spent else OneTimeTokenInvalid)(field="code")
                     if right else None)
    if utcnow() >= row.expires_at:
        raise reject("expired", OneTimeTokenExpired(field="code") if right else None)
    if not _spend_attempt(row, budget):
        raise reject("attempts_spent", CodeAttemptsExceeded(field="code") if right else None)
    if not right:
        _after_wrong_guess(row, budget, client)
        raise reject("wrong_code")
    _use(row, "code", client)
    return user
