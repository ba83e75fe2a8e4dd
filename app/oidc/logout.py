"""GET/POST /oauth2/logout: OpenID Connect RP-Initiated Logout 1.0.

A relying party sends the person here to end their Tessera session, optionally naming
where to send them afterwards. The rules:

- id_token_hint must be an ID token we issued (our key, its pinned algorithm; expired is
  fine, it is a hint). Its audience names the client; client_id, when also given, must be
  that same client.
- post_logout_redirect_uri must be one the client registered, matched exactly. Anything
  else, or one with no way to tell the client, is an error page: never a redirect.
- A hint for the signed-in person (its sid is this browser's session, or its sub is the
  signed-in user) ends the session at once. Any other request while signed in asks first:
  otherwise any site could sign people out with a link. The confirmation is a form with a
  CSRF token; the RP's own request cannot carry one, so the route is exempt and the token
  is checked here, on the confirmation only.
- Not signed in: nothing to end; go back to the client, or say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from app.core import clients, sessions
from app.core.clients import MAX_URI_LENGTH
from app.core.errors import InvalidToken
from app.extensions import csrf
from app.http import session_cookie
from app.http.client import client_info
from app.http.errors import error_response
from app.models import AuthSession, OAuthClient
from app.oidc.id_token import read_id_token_hint

bp = Blueprint("oidc_logout", __name__)

MAX_STATE_LENGTH = 2048
CONFIRM_FIELD = "confirm"


class LogoutConfirmForm(FlaskForm):
    """The "Sign out" button of the confirmation page: nothing but its CSRF token."""


class LogoutRefused(Exception):
    """The request is unsafe to act on: show an error page, never redirect."""


@dataclass
class LogoutRequest:
    client: OAuthClient | None
    redirect_uri: str | None
    state: str | None
    hint: dict | None

    def is_trusted_for(self, current: AuthSession) -> bool:
        """Did the hint come from a relying party this person is signed in to, here?"""
        if self.hint is None:
            return False
        return (self.hint.get("sid") == str(current.id)
                or self.hint.get("sub") == str(current.user_id))

    def done_url(self) -> str | None:
        if self.redirect_uri is None:
            return None
        if self.state is None:
            return self.redirect_uri
        return add_params_to_uri(self.redirect_uri, [("state", self.state)])


def _param(params, name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > limit:
        raise LogoutRefused(f"The {name} parameter is too long.")
    return value


def _hint_client_id(hint: dict) -> str | None:
    aud = hint.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    azp = hint.get("azp")
    if isinstance(azp, str) and azp in audiences:
        return azp
    if len(audiences) == 1 and isinstance(audiences[0], str):
        return audiences[0]
    return None


def parse(params) -> LogoutRequest:
    """Validate a logout request's parameters; LogoutRefused when they are not acceptable.

    logout_hint and ui_locales are accepted and not used: the hint names the person, who is
    already known from the session, and the pages have one language.
    """
    raw_hint = _param(params, "id_token_hint", 16 * 1024)
    client_id = _param(params, "client_id", 64)
    redirect_uri = _param(params, "post_logout_redirect_uri", MAX_URI_LENGTH)
    state = _param(params, "state", MAX_STATE_LENGTH)
    hint = None
    if raw_hint is not None:
        try:
            hint = read_id_token_hint(raw_hint)
        except InvalidToken:
            raise LogoutRefused("The id_token_hint is not an ID token issued here.") from None
        hinted = _hint_client_id(hint)
        if client_id is not None and client_id != hinted:
            raise LogoutRefused("The client_id does not match the id_token_hint.")
        client_id = hinted
    client = clients.get_client(client_id) if client_id is not None else None
    if client is None and raw_hint is None and client_id is not None:
        raise LogoutRefused("The client_id names no registered application.")
    if redirect_uri is not None:
        if client is None:
            raise LogoutRefused("A post_logout_redirect_uri needs an id_token_hint or a "
                                "client_id naming the application.")
        if not client.check_post_logout_redirect_uri(redirect_uri):
            raise LogoutRefused("The post_logout_redirect_uri is not registered for this "
                                "application.")
    return LogoutRequest(client=client, redirect_uri=redirect_uri, state=state, hint=hint)


def _end_current(current: AuthSession) -> None:
    sessions.end_session(current, reason="logout", client=client_info())
    session_cookie.forget()
    session.clear()


def _finish(logout: LogoutRequest):
    target = logout.done_url()
    if target is not None:
        return redirect(target, 302)
    return render_template("oidc/logged_out.html", client=logout.client)


def _confirm_page(logout: LogoutRequest):
    return render_template("oidc/logout_confirm.html", form=LogoutConfirmForm(), logout=logout,
                           confirm_field=CONFIRM_FIELD)


@bp.route("/oauth2/logout", methods=["GET", "POST"])
@csrf.exempt  # the RP's request has no CSRF token; the confirmation's is checked below
def logout():
    confirming = request.method == "POST" and CONFIRM_FIELD in request.form
    params = request.args if request.method == "GET" else request.form
    try:
        if confirming:
            validate_csrf(request.form.get("csrf_token"))
        logout_request = parse(params)
    except ValidationError:
        return error_response(400, "The form was missing its security token or it expired. "
                                   "Start signing out again from the application.")
    except LogoutRefused as refused:
        return error_response(400, str(refused))
    current = session_cookie.current_session()
    if (request.method == "POST" and not confirming
            and request.cookies.get(session_cookie.cookie_name()) is None):
        # The sign-in cookie is SameSite=Lax, so a cross-site POST arrives without it and
        # would look signed out. The same request as a GET (a top-level navigation, which
        # carries the cookie) shows who is really signed in.
        return redirect(url_for(".logout", **{name: value for name, value in params.items()
                                              if name != CONFIRM_FIELD}), 303)
    if current is None:
        return _finish(logout_request)  # nothing to end
    if confirming or logout_request.is_trusted_for(current):
        _end_current(current)
        return _finish(logout_request)
    return _confirm_page(logout_request)
