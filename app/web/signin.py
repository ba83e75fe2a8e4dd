"""Starting a browser session, and the second-factor step between a first factor and it.

Every hosted way in (password, sign-in link, passkey, the MFA page) ends here, so the rules
live in one place: a first factor only opens a session when core says no second factor is
due; otherwise the pending login's token waits in this browser's Flask session and the
person is sent to /mfa.
"""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, request, session, url_for

from app.core import acr as acr_levels
from app.core import parked_requests, sessions
from app.core.errors import MfaRequired
from app.core.mfa import login as mfa_login
from app.core.mfa import trusted_devices
from app.http import session_cookie
from app.http.client import client_info
from app.http.transaction import settle

# Where the pending login's mfa_token waits between the first factor and /mfa.
PENDING_KEY = "mfa_pending"


def sign_in(user, *, amr: list[str], acr: str | None = None,
            device_token: str | None = None) -> None:
    """Start a fresh session (a new id on every login) and drop any previous one.
    device_token: the trusted-device cookie this login came with or earned, so the device
    list can say which session runs on it."""
    client = client_info()
    previous = session_cookie.current_session()
    if previous is not None:
        sessions.end_session(previous, reason="replaced", client=client)
    auth_session, secret = sessions.start_session(
        user, client=client, amr=amr, acr=acr or acr_levels.for_login(amr))
    # A new CSRF token for the new identity; authorization requests waiting for this
    # sign-in survive it.
    parked = session.get(parked_requests.BROWSER_KEY)
    session.clear()
    if parked:
        session[parked_requests.BROWSER_KEY] = parked
    session_cookie.remember(auth_session, secret)
    device = trusted_devices.verify(user, device_token) if device_token else None
    if device is not None:
        trusted_devices.attach(device, auth_session)


def after_first_factor(user, *, amr: list[str], next_url: str | None,
                       mailbox_proven: bool = False) -> Response:
    """The password (or sign-in link) was right: sign in, or ask for the second factor.
    mailbox_proven: the first factor was a sign-in link (no email code may follow it)."""
    try:
        pending = mfa_login.begin(
            user, amr=amr, client=client_info(),
            trusted_device_token=request.cookies.get(trusted_devices.COOKIE_NAME),
            context={"next": next_url}, mailbox_proven=mailbox_proven)
    except MfaRequired as error:  # email codes are the only factor: the password it is
        settle(error)
        flash(error.message, "error")
        return redirect(url_for("auth.login", next=next_url))
    if pending is None:
        sign_in(user, amr=amr, device_token=request.cookies.get(trusted_devices.COOKIE_NAME))
        return redirect(next_url or url_for("account.profile"))
    session[PENDING_KEY] = pending.mfa_token
    return redirect(url_for("mfa.challenge"))


def remember_device(response: Response, token: str | None) -> Response:
    """Set the trusted-device cookie core issued (only when the person asked)."""
    if token:
        response.set_cookie(trusted_devices.COOKIE_NAME, token,
                            max_age=trusted_devices.max_age(), path="/",
                            secure=current_app.config["SECURE_COOKIES"], httponly=True,
                            samesite="Lax")
    return response
