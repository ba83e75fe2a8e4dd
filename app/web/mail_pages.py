"""Pages reached from mail: verification, password reset and sign-in link landings, the
forms that send those messages, and the development outbox."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from app.core.errors import OneTimeTokenInvalid, RegistrationNotAllowed, TesseraError
from app.core.mail import email_verification, magic_link, mailer, password_reset, sms
from app.core.mail import one_time_tokens as ott
from app.http.client import client_info
from app.http.transaction import settle
from app.web import signin
from app.web.form_pages import attach_error, form_page, reject
from app.web.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    MagicLinkForm,
    MagicLinkLandingForm,
    ResetPasswordForm,
    VerifyEmailCodeForm,
)
from app.web.navigation import safe_next

bp = Blueprint("mail", __name__)


def _token_arg() -> str:
    return (request.args.get("token") or "")[: ott.TOKEN_MAX_LENGTH + 1]


def _link_problem(error: OneTimeTokenInvalid, *, again_url: str, again_text: str):
    settle(error)
    return render_template("mail/link_problem.html", error=error, again_url=again_url,
                           again_text=again_text), error.status


@bp.get("/verify-email")
def verify_email():
    try:
        email_verification.verify_token(_token_arg(), client=client_info())
    except OneTimeTokenInvalid as error:
        again = url_for("account.profile")
        return _link_problem(error, again_url=again,
                             again_text="Sign in to send a new verification email")
    return render_template("mail/verified.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()

    def ask_for_link():
        password_reset.request(form.email.data, client=client_info())
        # The same page whether or not the address has an account.
        return render_template("mail/check_email.html", purpose="reset")

    return form_page(form, ask_for_link, "mail/forgot.html")


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password():
    token = _token_arg()
    again = {"again_url": url_for("mail.forgot_password"),
             "again_text": "Ask for a new reset link"}
    try:
        password_reset.check(token, client=client_info())
    except OneTimeTokenInvalid as error:
        return _link_problem(error, **again)
    form = ResetPasswordForm()

    def reset():
        try:
            password_reset.reset(token, form.password.data, client=client_info())
        except OneTimeTokenInvalid as error:
            return _link_problem(error, **again)
        flash("Your password has been changed and every session signed out. "
              "Sign in with your new password.", "success")
        return redirect(url_for("auth.login"))

    return form_page(form, reset, "mail/reset.html")


# Where to continue after a sign-in link asked for in this browser (an authorization
# request waiting for the sign-in, say). Kept in the browser, not in the mailed link: only
# the browser that started such a request can resume it.
MAGIC_NEXT_KEY = "magic_link_next"


@bp.post("/login/magic/send")
def send_magic_link():
    next_url = safe_next(request.args.get("next"))
    form = MagicLinkForm()
    if form.validate_on_submit():
        try:
            magic_link.send(form.email.data, client=client_info())
        except TesseraError as error:
            settle(error)
            attach_error(form, error)
        else:
            if next_url:
                session[MAGIC_NEXT_KEY] = next_url
            else:
                session.pop(MAGIC_NEXT_KEY, None)
            return render_template("mail/check_email.html", purpose="magic_link",
                                   next_url=next_url)
    flash(" ".join(form.email.errors or form.form_errors or ["Enter your email address."]),
          "error")
    return redirect(url_for("auth.login", next=next_url)), 303


@bp.route("/login/magic", methods=["GET", "POST"])
def magic_login():
    """GET asks for a click (mail scanners that open links must not use them up); POST uses
    the link and signs in. A sign-up link (no account for its address yet) offers to create
    the account, as /signup would for anyone."""
    token = _token_arg()
    again = {"again_url": url_for("auth.login"), "again_text": "Ask for a new sign-in link"}
    form = MagicLinkLandingForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                user = magic_link.verify(token, client=client_info(),
                                         allow_registration=form.register.data == "1")
            except OneTimeTokenInvalid as error:
                return _link_problem(error, **again)
            except RegistrationNotAllowed as error:
                # A sign-up link posted without asking for the account: ask (link kept).
                settle(error)
                status = error.status
            else:
                next_url = safe_next(session.pop(MAGIC_NEXT_KEY, None))
                # The link is one factor: a second one, when enrolled, is still asked for.
                response = signin.after_first_factor(user, amr=magic_link.AMR,
                                                     next_url=next_url, mailbox_proven=True)
                if form.register.data == "1":  # after sign-in, which starts a new state
                    flash("Welcome to Tessera. Your account is ready.", "success")
                return response
    try:
        new_account = magic_link.check(token, client=client_info())
    except OneTimeTokenInvalid as error:
        return _link_problem(error, **again)
    form.register.data = "1" if new_account else ""
    return render_template("mail/magic.html", form=form, new_account=new_account), status


@bp.route("/account/verify-email", methods=["GET", "POST"])
@login_required
def verify_email_code():
    """The verification email's 6-digit code, typed by the signed-in owner (the notice on
    /account posts here too). Each code allows TESSERA_EMAIL_CODE_ATTEMPTS guesses."""
    if current_user.email_verified:
        flash("Your email address is verified.", "info")
        return redirect(url_for("account.profile")), 303
    form = VerifyEmailCodeForm()
    status, headers = 200, {}
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                email_verification.verify_code(current_user, form.code.data,
                                               client=client_info())
            except TesseraError as error:
                status, headers = reject(form, error)
                left = error.details.get("attempts_left")
                if left:
                    form.code.errors.append(f"{left} tr{'ies' if left != 1 else 'y'} left.")
                elif left == 0:
                    form.code.errors.append("That was the last try for this code: send a new "
                                            "verification email.")
            else:
                flash("Thank you: your email address is verified.", "success")
                return redirect(url_for("account.profile")), 303
    return render_template("mail/verify_code.html", form=form,
                           resend_form=ConfirmForm()), status, headers


@bp.post("/account/verify-email/resend")
@login_required
def resend_verification():
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            sent = email_verification.resend(current_user, client=client_info())
        except TesseraError as error:
            settle(error)
            flash(error.message, "info")
        else:
            if sent:
                flash(f"We sent a new verification email to {current_user.email}.", "success")
            else:
                flash("We sent several emails recently. Check your inbox or try again later.",
                      "info")
    return redirect(url_for("account.profile")), 303


@bp.get("/dev/outbox")
def outbox():
    """Recent messages with their links, so a newcomer without SMTP can click them."""
    if current_app.config["ENV"] != "development":
        abort(404)
    messages = [(mail, mailer.links_in(mail)) for mail in mailer.recent()]
    return render_template("mail/outbox.html", messages=messages,
                           smtp=mailer.active(), texts=sms.recent(),
                           sms_gateway=sms.active())
