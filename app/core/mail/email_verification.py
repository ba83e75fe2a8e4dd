"""Email verification: a link and a 6-digit code in one message; either one verifies.

Sent at sign-up when TESSERA_EMAIL_VERIFICATION is on. Sends to one address are throttled
(TESSERA_MAIL_SEND_LIMIT) silently: a throttled send is skipped, not refused.

Signed-out callers (documents whose resend and code check take an email address) go
through `resend_to_address()` and `verify_code_at_address()`, which answer the same for an
unknown, a verified and an unverified address, so neither tells who has an account (the
resend is carried out after the answer, by the outbox worker: app/core/mail/mail_requests.py).
"""

from __future__ import annotations

from app.core import accounts, audit
from app.core.context import ClientInfo
from app.core.errors import AlreadyVerified, RateLimited
from app.core.mail import mail_requests, mailer
from app.core.mail import one_time_tokens as ott
from app.core.services import services, setting
from app.models import User


def _send(user: User, client: ClientInfo | None) -> int | None:
    """Queue a verification message (link + code); None when queued, else the seconds
    until the per-address throttle lets another one through."""
    retry_after = services().throttle.consume(setting("MAIL_SEND_LIMIT"), "mail",
                                              ott.VERIFY_EMAIL, user.email)
    if retry_after is not None:
        audit.record(audit.EMAIL_VERIFICATION_SENT, user_id=user.id, client=client,
                     sent=False, reason="throttled")
        return retry_after
    token = ott.issue(user, ott.VERIFY_EMAIL)
    code = ott.issue_code(user, ott.VERIFY_EMAIL)
    mailer.queue(user.email, "verify_email", email=user.email,
                 url=mailer.link("/verify-email", token=token), code=code,
                 hours=max(1, setting("EMAIL_VERIFICATION_TTL") // 3600))
    audit.record(audit.EMAIL_VERIFICATION_SENT, user_id=user.id, client=client, sent=True)
    return None


def send(user: User, *, client: ClientInfo | None = None) -> bool:
    """Queue a verification message (link + code). False when throttled or not needed."""
    if user.email_verified:
        return False
    return _send(user, client) is None


def on_signup(user: User, *, client: ClientInfo | None = None) -> bool:
    """What sign-up calls: sends when TESSERA_EMAIL_VERIFICATION is on."""
    if not setting("EMAIL_VERIFICATION"):
        return False
    return send(user, client=client)


def resend(user: User, *, client: ClientInfo | None = None) -> bool:
    """A signed-in person asks again. AlreadyVerified if there is nothing to verify;
    otherwise True if a message was queued, False if the per-address throttle held it."""
    if user.email_verified:
        raise AlreadyVerified()
    return send(user, client=client)


def resend_or_refuse(user: User, *, client: ClientInfo | None = None) -> None:
    """resend() for an API caller: a throttled send is refused with RateLimited (the
    caller is signed in, so saying so reveals nothing)."""
    if user.email_verified:
        raise AlreadyVerified()
    retry_after = _send(user, client)
    if retry_after is not None:
        raise RateLimited("Too many verification messages. Try again later.",
                          retry_after=retry_after)


def resend_to_address(email: object, *, client: ClientInfo | None = None) -> None:
    """Resend for whoever owns the address, if it needs verifying. Always returns None;
    raises only InvalidInput for a malformed address. Every address gets the same work:
    the request is recorded and the outbox worker carries it out (resend_for_address)."""
    mail_requests.defer(ott.VERIFY_EMAIL, accounts.normalize_email(email), client=client)


def resend_for_address(address: str, *, client: ClientInfo | None = None) -> None:
    """Carry out a recorded resend (the outbox worker): send to an active account whose
    address still needs verifying; audit why not otherwise."""
    user = accounts.find_by_email(address)
    if user is None or user.email_verified or not user.is_active:
        audit.record(audit.EMAIL_VERIFICATION_SENT, user_id=user.id if user else None,
                     client=client, sent=False,
                     reason="no_account" if user is None else "not_needed")
        return
    send(user, client=client)


def verify_code_at_address(email: object, code: object, *,
                           client: ClientInfo | None = None) -> User:
    """Verify by the 6-digit code, naming the account by its address (signed out). An
    unknown, verified or code-less address, or an expired code, answers exactly like a
    wrong code (see one_time_tokens.consume_code_sent_to); only the right code learns that
    it expired or was spent."""
    address = accounts.normalize_email(email)
    user = ott.consume_code_sent_to(address, code, ott.VERIFY_EMAIL, client=client)
    return _mark_verified(user, method="code", client=client)


def _mark_verified(user: User, *, method: str, client: ClientInfo | None) -> User:
    user.email_verified = True
    ott.retire(user, ott.VERIFY_EMAIL)
    audit.record(audit.EMAIL_VERIFIED, user_id=user.id, client=client, method=method)
    return user


def verify_token(token: object, *, client: ClientInfo | None = None) -> User:
    """Verify by the link's token. Raises OneTimeTokenInvalid / OneTimeTokenExpired."""
    user = ott.consume(token, ott.VERIFY_EMAIL, client=client)
    return _mark_verified(user, method="link", client=client)


def verify_code(user: User, code: object, *, client: ClientInfo | None = None) -> User:
    """Verify by the 6-digit code, for the signed-in owner. AlreadyVerified, or
    OneTimeTokenInvalid / CodeAttemptsExceeded / OneTimeTokenExpired / WrongCode (with
    details["attempts_left"]; durable: the attempt is kept)."""
    if user.email_verified:
        raise AlreadyVerified()
    ott.consume_code(user, code, ott.VERIFY_EMAIL, client=client)
    return _mark_verified(user, method="code", client=client)
