"""/oauth2/authorize: validate, then sign in and consent as needed, then issue a code.

A request that needs the person parks itself (app.core.parked_requests), sends them to the
login or consent page, and resumes at /oauth2/authorize/resume/<id> when they are done; the
consent page records the person's decision on the parked request, and resuming acts on it.
"""

from __future__ import annotations

import time

from flask import Blueprint, redirect, request, url_for
from flask import session as browser_state

from app.core import acr, authorization_codes, consents, parked_requests
from app.core.control_characters import is_clean
from app.core.mfa import enrolment as mfa_enrolment
from app.extensions import csrf
from app.http import session_cookie
from app.http.errors import error_response
from app.http.input_rules import checks_own_parameters
from app.models import AuthSession
from app.oidc.authorize_request import AuthorizationRequest, PageError, RedirectError, parse
from app.oidc.response_modes import deliver

bp = Blueprint("authorize", __name__, url_prefix="/oauth2")
# Relying parties may POST the request (OIDC Core §3.1.2.1); it carries no CSRF token.
csrf.exempt(bp)


@bp.route("/authorize", methods=["GET", "POST"])
@checks_own_parameters  # parse() refuses control characters: a page, or at the redirect URI
def authorize():
    source = request.form if request.method == "POST" else request.args
    return _run({name: source.getlist(name) for name in source}, pending=None)


@bp.get("/authorize/resume/<pending_id>")
def resume(pending_id: str):
    pending = parked_requests.load(browser_state, pending_id)
    if pending is None:
        return error_response(400, "This sign-in request has expired or belongs to another "
                                   "browser. Go back to the application and try again.")
    params = parked_requests.request_params(pending)
    return _run({name: [value] for name, value in params.items()}, pending=pending)


def _run(multi: dict[str, list[str]], pending):
    try:
        auth_request = parse(multi)
    except PageError as error:
        return error_response(400, error.description, code="invalid_request")
    except RedirectError as error:
        return _redirect_error(_target_of(multi), error)
    try:
        return _decide(auth_request, pending)
    except RedirectError as error:
        if pending is not None:
            parked_requests.finish(browser_state, pending)
        return _redirect_error(_target_of_request(auth_request), error)


def _target_of(multi: dict[str, list[str]]) -> tuple[str, str, str | None]:
    """Where a RedirectError raised during parsing goes: parse() checked client and URI."""
    mode = (multi.get("response_mode") or ["query"])[0]
    state = (multi.get("state") or [None])[0]
    if state is not None and not is_clean(state):
        state = None  # refused for its characters: not echoed back
    return (multi["redirect_uri"][0], mode if mode in ("query", "fragment", "form_post")
            else "query", state)


def _target_of_request(auth_request: AuthorizationRequest) -> tuple[str, str, str | None]:
    return auth_request.redirect_uri, auth_request.response_mode, auth_request.state


def _redirect_error(target: tuple[str, str, str | None], error: RedirectError):
    """An error the client hears at its redirect URI (RFC 6749 §4.1.2.1)."""
    redirect_uri, mode, state = target
    return deliver(redirect_uri, mode, {"error": error.error,
                                        "error_description": error.description}, state)


def _decide(auth_request: AuthorizationRequest, pending):
    if pending is not None and parked_requests.flags(pending).get(parked_requests.DECLINED):
        raise RedirectError("access_denied", "The person declined.")
    session = session_cookie.current_session()
    fresh = (pending is not None and session is not None
             and session.auth_time >= pending.created_at)
    if _needs_login(auth_request, session, fresh):
        if "none" in auth_request.prompt:
            raise RedirectError("login_required", "The person is not signed in.")
        return _send_to(auth_request, pending, "auth.login", reauth=session is not None,
                        login_hint=auth_request.login_hint)

    if (acr.requires_mfa(auth_request.acr_values, auth_request.claims)
            and not acr.has_mfa(session.acr)):
        # The application insists on a second factor this session has not passed.
        if not mfa_enrolment.is_enabled(session.user):
            raise RedirectError("unmet_authentication_requirements",
                                "The person has no second factor to satisfy acr_values.")
        if "none" in auth_request.prompt:
            raise RedirectError("interaction_required", "A second factor is needed.")
        return _send_to(auth_request, pending, "mfa.step_up")

    client = auth_request.client
    scopes = set(auth_request.scopes)
    consented_now = (pending is not None
                     and parked_requests.flags(pending).get(parked_requests.CONSENTED))
    if client.skip_consent:
        consents.grant(session.user_id, client.client_id, scopes, explicit=False)
    elif not consented_now and ("consent" in auth_request.prompt
                                or not consents.covers(session.user_id, client.client_id,
                                                       scopes)):
        if "none" in auth_request.prompt:
            raise RedirectError("consent_required", "The person has not consented.")
        return _send_to(auth_request, pending, "consent.show")

    code = authorization_codes.issue(
        client=client, session=session, redirect_uri=auth_request.redirect_uri,
        scope=auth_request.scope, nonce=auth_request.nonce,
        code_challenge=auth_request.code_challenge,
        code_challenge_method=auth_request.code_challenge_method, claims=auth_request.claims)
    if pending is not None:
        parked_requests.finish(browser_state, pending)
    return deliver(auth_request.redirect_uri, auth_request.response_mode, {"code": code},
                   auth_request.state)


def _needs_login(auth_request: AuthorizationRequest, session: AuthSession | None,
                 fresh: bool) -> bool:
    if session is None:
        return True
    hint = auth_request.hint_claims
    if hint is not None and hint.get("sub") != str(session.user_id):
        return not fresh
    if fresh:
        return False
    if auth_request.prompt & {"login", "select_account"}:
        return True
    if auth_request.max_age is not None:
        return time.time() - session.auth_time.timestamp() > auth_request.max_age
    return False


def _send_to(auth_request: AuthorizationRequest, pending, endpoint: str, **args):
    if pending is None:
        pending = parked_requests.park(browser_state, auth_request.client.client_id,
                                       auth_request.params)
    resume_url = url_for("authorize.resume", pending_id=pending.id)
    if endpoint == "consent.show":
        return redirect(url_for(endpoint, request=pending.id))
    return redirect(url_for(endpoint, next=resume_url,
                            **{key: value for key, value in args.items() if value}))

