"""/oauth2/authorize: validate, then sign in and consent as needed, then issue a code.

A request that needs the person parks itself (app.oidc.interaction), sends them to the
login or consent page, and resumes at /oauth2/authorize/resume/<id> when they are done.
"""

from __future__ import annotations

import time

from flask import Blueprint, redirect, request, url_for

from app.core import consents
from app.core.mfa import enrolment as mfa_enrolment
from app.extensions import csrf
from app.models import AuthSession
from app.oidc import acr, codes, interaction
from app.oidc.authorize_request import AuthorizationRequest, PageError, RedirectError, parse
from app.oidc.response_modes import deliver
from app.web import session_cookie
from app.web.client import client_info
from app.web.errors import render_error

bp = Blueprint("authorize", __name__, url_prefix="/oauth2")
# Relying parties may POST the request (OIDC Core §3.1.2.1); it carries no CSRF token.
csrf.exempt(bp)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    source = request.form if request.method == "POST" else request.args
    return _run({name: source.getlist(name) for name in source}, pending=None)


@bp.get("/authorize/resume/<pending_id>")
def resume(pending_id: str):
    pending = interaction.load(pending_id)
    if pending is None:
        return render_error(400, "This sign-in request has expired or belongs to another "
                                 "browser. Go back to the application and try again.")
    params = interaction.request_params(pending)
    return _run({name: [value] for name, value in params.items()}, pending=pending)


def _run(multi: dict[str, list[str]], pending):
    try:
        auth_request = parse(multi)
    except PageError as error:
        return render_error(400, error.description, code="invalid_request")
    except RedirectError as error:
        return _error_response(_target_of(multi), error)
    try:
        return _decide(auth_request, pending)
    except RedirectError as error:
        if pending is not None:
            interaction.finish(pending)
        return deliver(auth_request.redirect_uri, auth_request.response_mode,
                       {"error": error.error, "error_description": error.description},
                       auth_request.state)


def _target_of(multi: dict[str, list[str]]):
    """Where a RedirectError raised during parsing goes: parse() checked client and URI."""
    mode = (multi.get("response_mode") or ["query"])[0]
    return (multi["redirect_uri"][0], mode if mode in ("query", "fragment", "form_post")
            else "query", (multi.get("state") or [None])[0])


def _error_response(target, error: RedirectError):
    redirect_uri, mode, state = target
    return deliver(redirect_uri, mode, {"error": error.error,
                                        "error_description": error.description}, state)


def _decide(auth_request: AuthorizationRequest, pending):
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
    consented_now = pending is not None and interaction.flags(pending).get("consented")
    if client.skip_consent:
        consents.grant(session.user_id, client.client_id, scopes, explicit=False)
    elif not consented_now and ("consent" in auth_request.prompt
                                or not consents.covers(session.user_id, client.client_id,
                                                       scopes)):
        if "none" in auth_request.prompt:
            raise RedirectError("consent_required", "The person has not consented.")
        return _send_to(auth_request, pending, "consent.show")

    code = codes.issue(client=client, session=session, redirect_uri=auth_request.redirect_uri,
                       scope=auth_request.scope, nonce=auth_request.nonce,
                       code_challenge=auth_request.code_challenge,
                       code_challenge_method=auth_request.code_challenge_method,
                       claims=auth_request.claims)
    if pending is not None:
        interaction.finish(pending)
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
        pending = interaction.park(auth_request.client.client_id, auth_request.params)
    resume_url = url_for("authorize.resume", pending_id=pending.id)
    if endpoint == "consent.show":
        return redirect(url_for(endpoint, request=pending.id))
    return redirect(url_for(endpoint, next=resume_url,
                            **{key: value for key, value in args.items() if value}))


def parked_request(pending_id: str):
    """(pending, request) for the consent page, or None when it cannot be resumed."""
    pending = interaction.load(pending_id)
    if pending is None:
        return None
    try:
        return pending, parse({k: [v] for k, v in interaction.request_params(pending).items()})
    except (PageError, RedirectError):
        return None


def conclude_consent(pending, auth_request: AuthorizationRequest, *, approved: bool):
    """The consent page's decision: remember it and resume, or tell the client no."""
    if approved:
        interaction.set_flag(pending, "consented", True)
        consents.grant(session_cookie.current_session().user_id, auth_request.client.client_id,
                       set(auth_request.scopes), client=client_info())
        return redirect(url_for("authorize.resume", pending_id=pending.id))
    interaction.finish(pending)
    return deliver(auth_request.redirect_uri, auth_request.response_mode,
                   {"error": "access_denied", "error_description": "The person declined."},
                   auth_request.state)
