"""The signed-in person's account pages: profile, password, sessions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.core import accounts, connected_clients, sessions
from app.core.errors import TesseraError
from app.core.mfa import trusted_devices
from app.http import session_cookie
from app.http.client import client_info
from app.http.transaction import settle
from app.web.consent import describe as describe_scope
from app.web.form_pages import form_page
from app.web.forms import (
    ConfirmForm,
    EndSessionForm,
    PasswordChangeForm,
    ProfileForm,
    RevokeAppForm,
    VerifyEmailCodeForm,
)

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user
    form = ProfileForm(obj=user)

    def save():
        accounts.update_profile(
            user, client=client_info(), first_name=form.first_name.data,
            last_name=form.last_name.data, username=form.username.data,
            phone=form.phone.data,
        )
        flash("Profile saved.", "success")
        return redirect(url_for("account.profile"))

    return form_page(form, save, "account/profile.html", user=user,
                     resend_form=ConfirmForm(), code_form=VerifyEmailCodeForm())


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()

    def change():
        accounts.change_password(
            current_user, current_password=form.current_password.data,
            new_password=form.new_password.data, client=client_info(),
            keep_session_id=session_cookie.current_session().id,
        )
        flash("Password changed. Your other sessions were signed out.", "success")
        return redirect(url_for("account.profile"))

    return form_page(form, change, "account/password.html")


@bp.get("/sessions")
@login_required
def session_list():
    return render_template(
        "account/sessions.html",
        sessions=sessions.active_sessions(current_user),
        current_id=session_cookie.current_session().id,
        end_form=EndSessionForm(), others_form=ConfirmForm(),
    )


@bp.post("/sessions/end")
@login_required
def end_session():
    form = EndSessionForm()
    if not form.validate_on_submit():
        flash("That session could not be ended.", "error")
        return redirect(url_for("account.session_list")), 303
    current = session_cookie.current_session()
    try:
        ended = sessions.end_user_session(current_user, form.session_id.data,
                                          client=client_info())
    except TesseraError as error:
        settle(error)
        flash(error.message, "error")
        return redirect(url_for("account.session_list")), 303
    if ended.id == current.id:
        session_cookie.forget()
        return redirect(url_for("auth.login")), 303
    flash("Session ended.", "success")
    return redirect(url_for("account.session_list")), 303


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    form = ConfirmForm()
    if form.validate_on_submit():
        count = sessions.end_all_sessions(
            current_user, reason="ended_by_user", client=client_info(),
            except_session_id=session_cookie.current_session().id,
        )
        # "Sign out everywhere" also forgets the browsers that skip the second factor.
        trusted_devices.revoke_all(current_user, reason="sign_out_everywhere",
                                   client=client_info())
        flash(f"Signed out {count} other session{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("account.session_list")), 303


@bp.get("/apps")
@login_required
def connected_apps():
    return render_template("account/apps.html",
                           apps=connected_clients.for_user(current_user.id),
                           revoke_form=RevokeAppForm(), describe=describe_scope)


@bp.post("/apps/revoke")
@login_required
def revoke_app():
    form = RevokeAppForm()
    if form.validate_on_submit():
        try:
            connected_clients.disconnect(current_user.id, form.client_id.data,
                                         client=client_info())
        except TesseraError as error:
            settle(error)
            flash(error.message, "error")
        else:
            flash("Access removed. The app has been signed out.", "success")
    return redirect(url_for("account.connected_apps")), 303
