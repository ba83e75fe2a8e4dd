"""Sign up, sign in and sign out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.core import accounts, sessions
from app.http import session_cookie
from app.http.client import client_info
from app.web import signin
from app.web.form_pages import form_page
from app.web.forms import ConfirmForm, LoginForm, SignupForm
from app.web.navigation import safe_next

bp = Blueprint("auth", __name__)


@bp.get("/")
def home():
    return redirect(url_for("account.profile" if current_user.is_authenticated else "auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()

    def create_account():
        user = accounts.create_user(
            email=form.email.data, password=form.password.data,
            username=form.username.data, first_name=form.first_name.data,
            last_name=form.last_name.data, client=client_info(),
        )
        signin.sign_in(user, amr=["pwd"])
        flash("Welcome to Tessera. Your account is ready.", "success")
        return redirect(safe_next(request.args.get("next")) or url_for("account.profile"))

    return form_page(form, create_account, "auth/signup.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    # reauth: an application asked for a fresh sign-in (prompt=login, max_age).
    reauth = request.args.get("reauth") == "True"
    if request.method == "GET" and current_user.is_authenticated and not reauth:
        return redirect(next_url or url_for("account.profile"))
    form = LoginForm()
    if request.method == "GET" and not form.email.data:
        form.email.data = (request.args.get("login_hint") or "")[:254] or None

    def sign_in():
        user = accounts.authenticate(form.email.data, form.password.data,
                                     client=client_info())
        # A second factor, when enrolled, comes before the session starts.
        return signin.after_first_factor(user, amr=["pwd"], next_url=next_url)

    return form_page(form, sign_in, "auth/login.html", reauth=reauth, next_url=next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("auth/logout.html", form=form), 400
        current = session_cookie.current_session()
        if current is not None:
            sessions.end_session(current, reason="logout", client=client_info())
        session.clear()
        session_cookie.forget()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
