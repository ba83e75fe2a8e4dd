"""How the authorization server plugs into the app: its blueprints, the Authlib server,
and the machine endpoints whose errors are OAuth JSON.

/oauth2/authorize and /oauth2/logout are pages for a person (the pages' error page);
discovery and JWKS are public and cacheable; the token, introspection, revocation and
userinfo endpoints answer JSON that no cache may keep (RFC 6749 §5.1, RFC 7662 §2.2).
"""

from __future__ import annotations

from flask import Flask, Response

from app.core.errors import TesseraError
from app.http.errors import json_error
from app.http.surfaces import Surface, claim
from app.oidc import authorize, discovery, endpoints, logout, server, userinfo, wellknown


def _render_core(error: TesseraError, headers: dict[str, str]) -> Response:
    """Core errors in the OAuth shape; bad input (a control character in a parameter, say)
    is `invalid_request` (RFC 6749 §5.2)."""
    code = "invalid_request" if error.code == "validation" else error.code
    return json_error(error.status, code, error.message, headers)


# Served from memory, whoever asks: a database outage leaves them answering.
METADATA = Surface("oidc.metadata", render=json_error, prefixes=("/.well-known/",),
                   signed_in=False)
ENDPOINTS = Surface("oidc.endpoints", render=json_error, render_core=_render_core,
                    private=True, prefixes=("/oauth2/token", "/oauth2/introspect",
                                            "/oauth2/revoke", "/oauth2/userinfo"))


def register(app: Flask) -> None:
    app.extensions["tessera.oauth"] = server.build(app)
    for blueprint in (wellknown.bp, discovery.bp, authorize.bp, endpoints.bp, userinfo.bp,
                      logout.bp):
        app.register_blueprint(blueprint)
    claim(app, METADATA)
    claim(app, ENDPOINTS)
