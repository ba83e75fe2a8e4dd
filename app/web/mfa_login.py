"""/mfa: the second-factor step of a hosted sign-in, and the step-up an application asks
for with acr_values.

The pending login is core's (app.core.mfa.login); this browser only holds its opaque
token in the Flask session (signin.PENDING_KEY). A finished challenge either starts the
session (after a password or sign-in link) or, for a step-up, freshens the current one.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.core import acr as acr_levels
from app.core.errors import (
    MfaAttemptsExceeded,
    MfaChallengeInvalid,
    MfaRequired,
    TesseraError,
)
from app.core.mfa import amr as amr_values
from app.core.mfa import login as mfa_login
from app.core.mfa import recent_auth
from app.core.mfa.login import CompletedLogin
from app.http import session_cookie
from app.http.client import client_info
from app.http.transaction import settle
from app.web import signin
from app.web.form_pages import reject
from app.web.forms import ConfirmForm
from app.web.mfa_forms import METHOD_LABELS, MfaCodeForm
from app.web.navigation import safe_next

bp = Blueprint("mfa", __name__)


def _restart(error: TesseraError):
    """The pending login is over (expired, spent, finished): back to the sign-in page."""
    settle(error)  # durable ones (the spent attempt) are kept
    session.pop(signin.PENDING_KEY, None)
    flash(error.message, "error")
    return redirect(url_for("auth.login")), 303


def _page(pending, form: MfaCodeForm, status: int = 200, headers: dict | None = None):
    # Code methods first in the person's preferred order; a passkey has its own button.
    methods = sorted(pending.methods, key=lambda m: m != pending.preferred)
    return render_template("auth/mfa.html", form=form, methods=methods,
                           labels=METHOD_LABELS, preferred=pending.preferred,
                           send_form=ConfirmForm(prefix="send"),
                           step_up=bool(pending.challenge.context.get("step_up"))
                           ), status, headers or {}


@bp.route("/mfa", methods=["GET", "POST"])
def challenge():
    token = session.get(signin.PENDING_KEY)
    if not token:
        flash("Sign in first.", "info")
        return redirect(url_for("auth.login"))
    try:
        pending = mfa_login.pending(mfa_token=token)
    except MfaChallengeInvalid as error:
        return _restart(error)
    form = MfaCodeForm()
    if request.method == "GET":
        form.method.data = pending.preferred if pending.preferred != "webauthn" else None
        return _page(pending, form)
    if not form.validate_on_submit():
        return _page(pending, form, 400)
    try:
        done = mfa_login.complete(method=form.method.data, value=form.code.data,
                                  mfa_token=token, client=client_info(),
                                  remember_device=bool(form.remember.data))
    except MfaChallengeInvalid as error:
        return _restart(error)
    except TesseraError as error:
        left = error.details.get("attempts_left")
        if left == 0:  # that was the last attempt: the pending login is over
            return _restart(MfaAttemptsExceeded())
        status, headers = reject(form, error)
        if left is not None:
            form.form_errors.append(f"{left} attempt{'s' if left != 1 else ''} left.")
        return _page(pending, form, status, headers)
    try:
        return finish(done)
    except MfaChallengeInvalid as error:
        return _restart(error)


def finish(done: CompletedLogin):
    """Open (or step up) the session a finished challenge earned; go where it was headed.
    Raises MfaChallengeInvalid for a step-up whose session is gone (the caller rolls back,
    so the challenge and any remembered device are undone)."""
    context = done.context or {}
    step_up = context.get("step_up")
    current = session_cookie.current_session()
    level = acr_levels.for_login(done.amr, second_factor=done.method)
    target = safe_next(context.get("next")) or url_for("account.profile")
    if step_up:
        # A step-up's first factor is the session it steps up: if that session ended (or
        # this browser now holds another), the second factor alone opens nothing.
        if current is None or str(current.id) != step_up:
            raise MfaChallengeInvalid("Your session ended. Sign in again.")
        recent_auth.mark_fresh(current, done.amr)
        current.acr = level
        session.pop(signin.PENDING_KEY, None)
    else:
        signin.sign_in(done.user, amr=done.amr, acr=level,
                       device_token=done.trusted_device_token)
    return signin.remember_device(redirect(target, 303), done.trusted_device_token)


@bp.post("/mfa/email")
def send_email_code():
    """Mail a code for the pending login (the email method's "Send me a code")."""
    token = session.get(signin.PENDING_KEY)
    form = ConfirmForm(prefix="send")
    if not token or not form.validate_on_submit():
        flash("That request could not be completed. Try again.", "error")
        return redirect(url_for("mfa.challenge" if token else "auth.login")), 303
    try:
        mfa_login.send_email_code(mfa_token=token, client=client_info())
    except MfaChallengeInvalid as error:
        return _restart(error)
    except TesseraError as error:
        settle(error)
        flash(error.message, "error")
    else:
        flash("We sent a code to your email address.", "success")
    return redirect(url_for("mfa.challenge", method="email")), 303


@bp.get("/mfa/step-up")
@login_required
def step_up():
    """An application asked for MFA (acr_values) and this session has one factor: open a
    challenge for the signed-in person; a trusted device does not count here."""
    current = session_cookie.current_session()
    next_url = safe_next(request.args.get("next"))
    amr = list(current.amr or [])
    try:
        pending = mfa_login.begin(
            current_user, amr=amr, client=client_info(),
            context={"next": next_url, "step_up": str(current.id)},
            # Signed in without a password: by a sign-in link (a passkey is already MFA).
            mailbox_proven=amr_values.PASSWORD not in amr)
    except MfaRequired as error:
        settle(error)
        flash(error.message, "error")
        return redirect(url_for("auth.login", reauth="True", next=next_url))
    if pending is None:
        flash("This application asks for two-step verification. Set up a second factor "
              "first.", "info")
        return redirect(url_for("security.overview"))
    session[signin.PENDING_KEY] = pending.mfa_token
    return redirect(url_for("mfa.challenge"))
