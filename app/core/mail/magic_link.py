"""Sign-in links by mail ("magic links").

`send()` answers the same, and does the same work, whether or not the address has an
account (the outbox worker carries the request out: app/core/mail/mail_requests.py). With
`allow_registration` an unknown address is sent a sign-up link instead (nothing is created
yet); `verify()` creates the account from such a link only when its caller allows
registration too (the hosted landing does when the person asks for the account; modernauth
when the call says `allow_registration`). `check()` tells which kind a link is without
using it. `verify()` returns the user: the caller starts the session (amr AMR).
"""

from __future__ import annotations

from app.core import accounts, audit
from app.core.context import ClientInfo
from app.core.errors import AccountInactive, AccountLocked, RegistrationNotAllowed
from app.core.mail import mail_requests, mailer
from app.core.mail import one_time_tokens as ott
from app.core.services import services, setting
from app.models import User

AMR = ["otp"]  # RFC 8176 has no "email"; a one-time secret delivered out of band is "otp"


def send(email: object, *, client: ClientInfo | None = None,
         allow_registration: bool = False) -> None:
    """Send a sign-in link (or, with allow_registration, a sign-up link to an unknown
    address). Always returns None; raises only InvalidInput for a malformed address.
    Every address gets the same work: the request is recorded and the outbox worker
    carries it out (send_link)."""
    mail_requests.defer(ott.MAGIC_LINK, accounts.normalize_email(email), client=client,
                        allow_registration=bool(allow_registration))


def send_link(address: str, *, client: ClientInfo | None = None,
              allow_registration: bool = False) -> None:
    """Carry out a recorded request (the outbox worker). Sends to one address are
    throttled (TESSERA_MAIL_SEND_LIMIT)."""
    throttled = services().throttle.consume(setting("MAIL_SEND_LIMIT"), "mail",
                                            ott.MAGIC_LINK, address) is not None
    user = accounts.find_by_email(address)
    minutes = max(1, setting("MAGIC_LINK_TTL") // 60)
    if user is None and allow_registration and not throttled:
        token = ott.issue_for_address(address, ott.MAGIC_LINK)
        mailer.queue(address, "magic_link", email=address, minutes=minutes, new_account=True,
                     url=mailer.link("/login/magic", token=token))
        audit.record(audit.MAGIC_LINK_SENT, user_id=None, client=client, sent=True,
                     reason="sign_up")
        return
    if user is None or throttled or not user.is_active or user.is_locked:
        audit.record(audit.MAGIC_LINK_SENT, user_id=user.id if user else None, client=client,
                     sent=False, reason="throttled" if throttled else "no_account"
                     if user is None else "account_disabled")
        return
    token = ott.issue(user, ott.MAGIC_LINK)
    mailer.queue(user.email, "magic_link", email=user.email, minutes=minutes,
                 url=mailer.link("/login/magic", token=token))
    audit.record(audit.MAGIC_LINK_SENT, user_id=user.id, client=client, sent=True)


def check(token: object, *, client: ClientInfo | None = None) -> bool:
    """Look at a link without using it (a page asks for a click first, so a mail scanner
    opening it cannot use it up). True when it is a sign-up link whose address still has
    no account: using it creates one. Raises OneTimeTokenInvalid / OneTimeTokenExpired."""
    user, address = ott.check_unowned(token, ott.MAGIC_LINK, client=client)
    return user is None and accounts.find_by_email(address) is None


def verify(token: object, *, client: ClientInfo | None = None,
           allow_registration: bool = False) -> User:
    """Use a sign-in link; returns the user to start a session for (amr AMR).

    Errors: OneTimeTokenInvalid (`token_invalid`), OneTimeTokenExpired (`token_expired`),
    AccountLocked, AccountInactive, and RegistrationNotAllowed for a sign-up link used
    without allow_registration (the link is left unused, so it can be tried again). Opening
    the link proves the mailbox, so the email becomes verified.

    The link is a first factor only: the caller hands the user to the MFA login step
    (app.core.mfa.login), which asks a user with a second factor for it before the session
    starts, as after a password.
    """
    user, address = ott.check_unowned(token, ott.MAGIC_LINK, client=client)
    if user is None:
        # A sign-up link; the account may have been created since it was sent.
        user = accounts.find_by_email(address)
        if user is None and not allow_registration:
            raise RegistrationNotAllowed(field="allow_registration")
    if user is not None and user.is_locked:
        raise AccountLocked()
    if user is not None and not user.is_active:
        raise AccountInactive()
    ott.consume_unowned(token, ott.MAGIC_LINK, client=client)
    if user is None:
        user = accounts.create_passwordless_user(address, client=client)
        # Any other sign-up link to the address would now sign in to this account.
        ott.retire_for_address(address, ott.MAGIC_LINK)
    if not user.email_verified:
        user.email_verified = True
        audit.record(audit.EMAIL_VERIFIED, user_id=user.id, client=client,
                     method="magic_link")
    audit.record(audit.MAGIC_LINK_USED, user_id=user.id, client=client)
    return user
