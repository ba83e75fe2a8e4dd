"""The consent page: which application asks for what, in plain words; allow or deny."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from app.http.errors import error_response
from app.oidc.authorize import conclude_consent, parked_request
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
    parked = parked_request(pending_id)
    if parked is None:
        return error_response(400, "This request has expired or belongs to another browser. "
                                 "Go back to the application and try again.")
    pending, auth_request = parked
    if request.method == "POST" and form.validate_on_submit():
        return conclude_consent(pending, auth_request, approved=form.allow.data)
    return render_template("consent.html", form=form, pending_id=pending_id,
                           client=auth_request.client,
                           scopes=[describe(scope) for scope in auth_request.scopes])
