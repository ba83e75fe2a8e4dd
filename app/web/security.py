"""/account/security: second factors, passkeys, recovery codes, trusted devices.

Changing a factor needs a recent authentication: core raises ReauthenticationRequired and
the page sends the person to /account/security/confirm, which returns them to the page
they were on once they have entered their password or a code again.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.core import sessions
from app.core.errors import ReauthenticationRequired, TesseraError
from app.core.mfa import (
    email_codes,
    enrolment,
    factors,
    passkeys,
    recent_auth,
    recovery_codes,
    status,
    totp,
    trusted_devices,
)
from app.http import session_cookie
from app.http.client import client_info
from app.http.transaction import settle
from app.web.form_pages import reject
from app.web.forms import ConfirmForm
from app.web.mfa_forms import (
    METHOD_LABELS,
    PasskeyRenameForm,
    PreferredMethodForm,
    ReauthForm,
    TotpDisableForm,
    TotpEnableForm,
)
from app.web.navigation import safe_next

bp = Blueprint("security", __name__, url_prefix="/account/security")


def _session():
    return session_cookie.current_session()


def _confirm_first(return_to: str | None = None):
    """Off to the re-authentication prompt, coming back to `return_to` afterwards."""
    return redirect(url_for("security.confirm",
                            next=return_to or url_for("security.overview")), 303)


def _back(message: str | None = None, category: str = "success"):
    if message:
        flash(message, category)
    return redirect(url_for("security.overview"), 303)


def end_other_sessions(user) -> str:
    """After a factor change, on request: every other session of the person ends."""
    count = sessions.end_all_sessions(user, reason="factor_changed", client=client_info(),
                                      except_session_id=_session().id)
    return f" Signed out {count} other session{'s' if count != 1 else ''}."


def _failed(error: TesseraError):
    """A POST action's core error: re-authenticate first, or say why on the page."""
    if isinstance(error, ReauthenticationRequired):
        settle(error)
        return _confirm_first()
    settle(error)
    return _back(error.message, "error")


@bp.get("")
@login_required
def overview():
    user = current_user
    mfa = status.status(user)
    preferable = [m for m in enrolment.PREFERABLE if m in mfa.methods]
    preferred_form = PreferredMethodForm(method=mfa.preferred)
    preferred_form.method.choices = [SelectChoice(m, METHOD_LABELS[m]) for m in preferable]
    return render_template(
        "security/overview.html", mfa=mfa, labels=METHOD_LABELS,
        passkeys=passkeys.list_credentials(user), devices=trusted_devices.list_for_user(user),
        recent=recent_auth.is_recent(_session()), preferred_form=preferred_form,
        rename_form=PasskeyRenameForm(), disable_form=TotpDisableForm(prefix="disable"),
        action_form=ConfirmForm())


# --- re-authentication ---------------------------------------------------------------------

@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    next_url = safe_next(request.args.get("next")) or url_for("security.overview")
    form = ReauthForm()
    status_code, headers = 200, {}
    if request.method == "POST":
        status_code = 400
        if form.validate_on_submit():
            try:
                if form.password.data:
                    recent_auth.confirm_password(_session(), form.password.data,
                                                 client=client_info())
                elif form.code.data:
                    factors.confirm_factor(_session(), form.method.data,
                                           form.code.data.strip(), client=client_info())
                else:
                    form.form_errors.append("Enter your password or a code.")
                    return render_template("security/confirm.html", form=form,
                                           next_url=next_url,
                                           mfa=status.status(current_user)), 400
            except TesseraError as error:
                status_code, headers = reject(form, error)
            else:
                return redirect(next_url, 303)
    return render_template("security/confirm.html", form=form, next_url=next_url,
                           mfa=status.status(current_user)), status_code, headers


# --- authenticator app ---------------------------------------------------------------------

@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """GET shows the secret (the one begun, or a new one); POST confirms it with a code."""
    form = TotpEnableForm()
    here = url_for("security.totp_setup")
    status_code, headers = 200, {}
    try:
        setup = totp.current_setup(current_user, session=_session())
        if setup is None and request.method == "GET":
            if totp.is_enabled(current_user):
                return _back("The authenticator app is already set up.", "info")
            setup = totp.begin_setup(current_user, session=_session(), client=client_info())
    except ReauthenticationRequired as error:
        settle(error)
        return _confirm_first(here)
    if setup is None:
        return _back("Start setting up the authenticator app again.", "error")
    if request.method == "POST":
        status_code = 400
        if form.validate_on_submit():
            try:
                totp.enable(current_user, form.code.data, session=_session(),
                            client=client_info())
                codes = recovery_codes.first_set(current_user, session=_session(),
                                                 client=client_info())
            except ReauthenticationRequired as error:
                settle(error)
                return _confirm_first(here)
            except TesseraError as error:
                status_code, headers = reject(form, error)
            else:
                ended = end_other_sessions(current_user) if form.end_others.data else ""
                if codes:
                    flash("Authenticator app set up. Keep these recovery codes somewhere "
                          "safe." + ended, "success")
                    return render_template("security/recovery_codes.html", codes=codes)
                return _back("Authenticator app set up." + ended)
    return render_template("security/totp.html", form=form, setup=setup,
                           restart_form=ConfirmForm(prefix="restart")), status_code, headers


@bp.post("/totp/restart")
@login_required
def totp_restart():
    """A new secret (the person lost the first QR code before confirming it)."""
    if ConfirmForm(prefix="restart").validate_on_submit():
        try:
            totp.begin_setup(current_user, session=_session(), client=client_info())
        except TesseraError as error:
            return _failed(error)
    return redirect(url_for("security.totp_setup"), 303)


@bp.post("/totp/disable")
@login_required
def totp_disable():
    form = TotpDisableForm(prefix="disable")
    if not form.validate_on_submit():
        return _back("Enter a code from the app or your password.", "error")
    try:
        totp.disable(current_user, code=(form.code.data or "").strip() or None,
                     password=form.password.data or None, client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back("Authenticator app removed.")


# --- recovery codes, email codes, preference -----------------------------------------------

@bp.post("/recovery-codes")
@login_required
def regenerate_recovery_codes():
    if not ConfirmForm().validate_on_submit():
        return _back("That request could not be completed. Try again.", "error")
    try:
        codes = recovery_codes.generate(current_user, session=_session(),
                                        client=client_info())
    except TesseraError as error:
        return _failed(error)
    # Shown once, in this answer only (no-store: the session cookie is present).
    return render_template("security/recovery_codes.html", codes=codes)


@bp.post("/email")
@login_required
def toggle_email_codes():
    if not ConfirmForm().validate_on_submit():
        return _back("That request could not be completed. Try again.", "error")
    enabling = not email_codes.is_enabled(current_user)
    try:
        (email_codes.enable if enabling else email_codes.disable)(
            current_user, session=_session(), client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back("Sign-in codes by email turned on." if enabling
                 else "Sign-in codes by email turned off.")


@bp.post("/preferred")
@login_required
def choose_preferred():
    form = PreferredMethodForm()
    if not form.validate_on_submit():
        return _back("Choose a method.", "error")
    try:
        enrolment.set_preferred(current_user, form.method.data, client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back(f"{METHOD_LABELS.get(form.method.data)} will be asked for first.")


# --- passkeys ------------------------------------------------------------------------------

@bp.post("/passkeys/<credential_id>/rename")
@login_required
def rename_passkey(credential_id: str):
    form = PasskeyRenameForm()
    if not form.validate_on_submit():
        return _back(" ".join(form.name.errors) or "Give the passkey a name.", "error")
    try:
        row = passkeys.rename(current_user, credential_id, form.name.data,
                              client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back(f"Passkey renamed to “{row.name}”.")


@bp.post("/passkeys/<credential_id>/delete")
@login_required
def delete_passkey(credential_id: str):
    if not ConfirmForm().validate_on_submit():
        return _back("That request could not be completed. Try again.", "error")
    try:
        passkeys.delete(current_user, credential_id, session=_session(), client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back("Passkey removed.")


# --- trusted devices and other sessions ----------------------------------------------------

@bp.post("/devices/<device_id>/revoke")
@login_required
def revoke_device(device_id: str):
    if not ConfirmForm().validate_on_submit():
        return _back("That request could not be completed. Try again.", "error")
    try:
        trusted_devices.revoke(current_user, device_id, client=client_info())
    except TesseraError as error:
        return _failed(error)
    return _back("That device will be asked for a second factor again.")


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every other session and forget every trusted device (after a factor change, or
    a lost phone)."""
    if not ConfirmForm().validate_on_submit():
        return _back("That request could not be completed. Try again.", "error")
    client = client_info()
    count = sessions.end_all_sessions(current_user, reason="ended_by_user", client=client,
                                      except_session_id=_session().id)
    forgotten = trusted_devices.revoke_all(current_user, reason="sign_out_everywhere",
                                           client=client)
    return _back(f"Signed out {count} other session{'s' if count != 1 else ''} and forgot "
                 f"{forgotten} trusted device{'s' if forgotten != 1 else ''}.")
