"""The consent page: which application asks for what, in plain words; allow or deny."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as browser_state
from flask_login import current_user, login_required

from app.core import clients, parked_requests
from app.http.client import client_info
from app.http.errors import error_response
from app.web.forms import ConsentForm

bp = Blueprint("consent", __name__)

SCOPE_WORDS = {
    "openid": "Sign you in with your Tessera account",
    "profile": "See your name and username",
    "email": "See your email address",
    "phone": "See your phone number",
    "address": "See your postal address",
    "offline_access": "Stay connected when you are not using the app",
}


def describe(scope: str) -> str:
    return SCOPE_WORDS.get(scope, f"Use the “{scope}” permission")


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def show():
    form = ConsentForm()
    pending_id = request.values.get("request", "")
    pending = parked_requests.load(browser_state, pending_id)
    client = clients.get_client(pending.client_id) if pending is not None else None
    if client is None:
        return error_response(400, "This request has expired or belongs to another browser. "
                                 "Go back to the application and try again.")
    if request.method == "POST" and form.validate_on_submit():
        return _conclude(pending, approved=form.allow.data)
    return render_template("consent.html", form=form, pending_id=pending_id, client=client,
                           scopes=[describe(scope)
                                   for scope in parked_requests.requested_scopes(pending)])


def _conclude(pending, *, approved: bool):
    """Record the decision on the parked request and hand it back to the authorization
    endpoint, which resumes the request and answers the client."""
    if approved:
        parked_requests.approve(pending, current_user.id, client=client_info())
    else:
        parked_requests.decline(pending)
    return redirect(url_for("authorize.resume", pending_id=pending.id))
