"""The JSON the pages' WebAuthn script calls: begin/finish of a passkey registration, of a
passwordless sign-in, and of a passkey as the second factor.

Same-origin only: every POST carries the CSRF token in the X-CSRFToken header (flask-wtf
checks it before the view runs). Answers are small JSON objects; an error is
{"error": code, "message": text} with core's status, plus "redirect" when the page should
move on (re-authentication needed, the pending login is over).
"""

from __future__ import annotations

import functools

from flask import Blueprint, flash, jsonify, request, session, url_for
from flask_login import current_user

from app.core import acr as acr_levels
from app.core.errors import (
    InvalidInput,
    MfaChallengeInvalid,
    ReauthenticationRequired,
    TesseraError,
)
from app.core.mfa import factors, passkeys
from app.core.mfa import login as mfa_login
from app.http import json_body, session_cookie
from app.http.client import client_info
from app.http.transaction import settle
from app.web import signin
from app.web.mfa_login import finish as finish_challenge
from app.web.navigation import safe_next
from app.web.security import end_other_sessions

PREFIX = "/webauthn"
bp = Blueprint("passkey_api", __name__, url_prefix=PREFIX)
RATE_LIMIT = "60 per minute"  # per IP, over all of /webauthn (applied in create_app)


def _body() -> dict:
    # Not request.get_json(silent=True): it lets a deeply nested body's RecursionError out.
    try:
        body = json_body.parsed() if request.is_json else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object.", field="body")
    return body


def _error(error: TesseraError, redirect_to: str | None = None):
    settle(error)
    body = {"error": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    if redirect_to:
        body["redirect"] = redirect_to
    return jsonify(body), error.status


def _ok(redirect_to: str):
    return jsonify({"redirect": redirect_to})


def signed_in_only(view):
    """flask-login's login_required answers with a redirect to an HTML page, which a fetch
    cannot use: here a stranger gets 401 JSON naming the sign-in page."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return jsonify({"error": "unauthenticated", "message": "Sign in first.",
                            "redirect": url_for("auth.login")}), 401
        return view(*args, **kwargs)
    return wrapper


# --- adding a passkey on /account/security -------------------------------------------------

def _reauth_url() -> str:
    return url_for("security.confirm", next=url_for("security.overview"))


@bp.post("/register/begin")
@signed_in_only
def register_begin():
    try:
        return jsonify(passkeys.registration_options(
            current_user, session=session_cookie.current_session()))
    except ReauthenticationRequired as error:
        return _error(error, _reauth_url())
    except TesseraError as error:
        return _error(error)


@bp.post("/register/finish")
@signed_in_only
def register_finish():
    try:
        body = _body()
        row = passkeys.register(current_user, passkeys.credential_from_body(body),
                                session=session_cookie.current_session(),
                                name=body.get("name"), client=client_info())
    except ReauthenticationRequired as error:
        return _error(error, _reauth_url())
    except TesseraError as error:
        return _error(error)
    ended = end_other_sessions(current_user) if body.get("end_others") is True else ""
    flash(f"Passkey “{row.name}” added.{ended}", "success")
    return _ok(url_for("security.overview"))


# --- confirming it is you with a passkey (/account/security/confirm) -----------------------

@bp.post("/reauth/begin")
@signed_in_only
def reauth_begin():
    try:
        return jsonify(passkeys.authentication_options(current_user))
    except TesseraError as error:
        return _error(error)


@bp.post("/reauth/finish")
@signed_in_only
def reauth_finish():
    try:
        body = _body()
        factors.confirm_factor(session_cookie.current_session(), "webauthn",
                               body.get("credential"), client=client_info())
    except TesseraError as error:
        return _error(error)
    next_url = safe_next(body.get("next") if isinstance(body.get("next"), str) else None)
    return _ok(next_url or url_for("security.overview"))


# --- signing in with a passkey alone (/login) ----------------------------------------------

@bp.post("/login/begin")
def login_begin():
    return jsonify(mfa_login.passwordless_options())


@bp.post("/login/finish")
def login_finish():
    try:
        body = _body()
        user, amr = mfa_login.passwordless(body.get("credential"), client=client_info())
    except TesseraError as error:
        return _error(error)
    # User verification on a discoverable passkey is two factors in one (core adds mfa).
    signin.sign_in(user, amr=amr, acr=acr_levels.for_login(amr))
    next_url = safe_next(body.get("next") if isinstance(body.get("next"), str) else None)
    return _ok(next_url or url_for("account.profile"))


# --- a passkey as the second factor (/mfa) -------------------------------------------------

def _restart_url() -> str:
    return url_for("auth.login")


@bp.post("/mfa/begin")
def mfa_begin():
    try:
        return jsonify(mfa_login.passkey_options(mfa_token=session.get(signin.PENDING_KEY)))
    except MfaChallengeInvalid as error:
        session.pop(signin.PENDING_KEY, None)
        return _error(error, _restart_url())
    except TesseraError as error:
        return _error(error)


@bp.post("/mfa/finish")
def mfa_finish():
    try:
        body = _body()
        done = mfa_login.complete(method="webauthn", value=body.get("credential"),
                                  mfa_token=session.get(signin.PENDING_KEY),
                                  client=client_info(),
                                  remember_device=body.get("remember") is True)
        redirect_response = finish_challenge(done)
    except MfaChallengeInvalid as error:
        session.pop(signin.PENDING_KEY, None)
        return _error(error, _restart_url())
    except TesseraError as error:
        if error.details.get("attempts_left") == 0:
            session.pop(signin.PENDING_KEY, None)
            return _error(error, _restart_url())
        return _error(error)
    response = _ok(redirect_response.headers["Location"])
    for cookie in redirect_response.headers.getlist("Set-Cookie"):
        response.headers.add("Set-Cookie", cookie)
    return response
