"""Delivering an authorization response: query, fragment or form_post, always with `iss`.

RFC 9207 puts the issuer in every authorization response, success or error, so a client
talking to several servers can tell which one answered (mix-up defence).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import make_response, redirect, render_template

from app.core.services import setting
from app.http.headers import forbid_caching


def deliver(redirect_uri: str, response_mode: str, params: dict, state: str | None):
    values = {**params, "iss": setting("ISSUER")}
    if state is not None:
        values["state"] = state
    if response_mode == "form_post":
        response = make_response(render_template("oidc/form_post.html", action=redirect_uri,
                                                 fields=values))
        return forbid_caching(response)  # the page carries the code
    encoded = urlencode(values)
    if response_mode == "fragment":
        return redirect(f"{redirect_uri}#{encoded}", 302)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{encoded}", 302)
