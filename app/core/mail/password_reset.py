"""Password reset by a link in mail.

`request()` answers the same, and does the same work, whether or not the address has an
account: it only records the request (app/core/mail/mail_requests.py); the outbox worker then
calls `send_link()`, which mails a link to an active account. `reset()` sets a new password
through the policy and ends every session and refresh token of the user.
"""

from __future__ import annotations

from app.core import accounts, audit, sessions, tokens
from app.core.context import ClientInfo
from app.core.errors import InvalidInput
from app.core.mail import mail_requests, mailer
from app.core.mail import one_time_tokens as ott
from app.core.services import services, setting
from app.models import User
from app.models.types import utcnow


def request(email: object, *, client: ClientInfo | None = None) -> None:
    """Ask for a reset link for an address. Always returns None; raises only
    InvalidInput for a malformed address (that reveals nothing)."""
    mail_requests.defer(ott.PASSWORD_RESET, accounts.normalize_email(email), client=client)


def send_link(address: str, *, client: ClientInfo | None = None) -> None:
    """Carry out a recorded request (the outbox worker): mail a reset link if the address
    has an active account. Sends to one address are throttled (TESSERA_MAIL_SEND_LIMIT)."""
    throttled = services().throttle.consume(setting("MAIL_SEND_LIMIT"), "mail",
                                            ott.PASSWORD_RESET, address) is not None
    user = accounts.find_by_email(address)
    if user is None or throttled or not user.is_active or user.is_locked:
        audit.record(audit.PASSWORD_RESET_REQUESTED, user_id=user.id if user else None,
                     client=client, sent=False,
                     reason="throttled" if throttled else "no_account" if user is None
                     else "account_disabled")
        return
    token = ott.issue(user, ott.PASSWORD_RESET)
    mailer.queue(user.email, "password_reset", email=user.email,
                 minutes=max(1, setting("PASSWORD_RESET_TTL") // 60),
                 url=mailer.link("/password/reset", token=token))
    audit.record(audit.PASSWORD_RESET_REQUESTED, user_id=user.id, client=client, sent=True)


def check(token: object, *, client: ClientInfo | None = None) -> User:
    """The user a reset token belongs to, without using it (to show the form).
    Raises OneTimeTokenInvalid / OneTimeTokenExpired."""
    return ott.check(token, ott.PASSWORD_RESET, client=client)


def reset(token: object, new_password: object, *,
          client: ClientInfo | None = None) -> User:
    """Set a new password with a reset token; end every session and refresh token.

    Errors: OneTimeTokenInvalid (`token_invalid`), OneTimeTokenExpired (`token_expired`),
    InvalidInput / WeakPassword (`validation` / `weak_password`, field "password"). A
    password the policy refuses does not use up the token.

    MFA: this never signs the person in and never touches second factors, so a user with
    MFA must still pass it at the next login. When MFA lands, keep it that way: do not start
    a session here, and do not let a reset remove a factor.
    """
    user = ott.check(token, ott.PASSWORD_RESET, client=client)
    if not isinstance(new_password, str) or not new_password:
        raise InvalidInput("New password is required.", field="password")
    passwords = services().passwords
    passwords.check_policy(new_password, field="password",
                           personal=(user.email.split("@", 1)[0], user.username))
    user = ott.consume(token, ott.PASSWORD_RESET, client=client)
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = utcnow()
    audit.record(audit.PASSWORD_RESET, user_id=user.id, client=client)
    sessions.end_all_sessions(user, reason="password_reset", client=client)
    tokens.revoke_for_user(user.id, "password_reset")
    # The mailbox owner chose a new password: failed attempts before it no longer count.
    accounts.reset_login_throttle(user.email)
    return user
