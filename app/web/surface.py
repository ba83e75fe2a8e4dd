"""How the hosted pages plug into the app: their blueprints, and the paths they own.

The pages own every path no other surface claims, so an unknown path is a themed 404.
Their WebAuthn JSON (/webauthn/) and /health answer errors as JSON instead.
"""

from __future__ import annotations

from flask import Flask

from app.http.errors import json_error
from app.http.surfaces import Surface, claim, claim_the_rest
from app.web import (
    account,
    auth,
    consent,
    health,
    mail_pages,
    mfa_login,
    passkey_api,
    security,
)
from app.web.errors import render_page

PAGES = Surface("pages", render=render_page)
# The passkey ceremonies' answers carry challenges and session state: never cached.
WEBAUTHN = Surface("pages.webauthn", render=json_error, prefixes=(passkey_api.PREFIX + "/",),
                   private=True)
HEALTH = Surface("health", render=json_error, prefixes=("/health",), signed_in=False)


def register(app: Flask) -> None:
    for blueprint in (health.bp, auth.bp, account.bp, consent.bp, mail_pages.bp,
                      mfa_login.bp, passkey_api.bp, security.bp):
        app.register_blueprint(blueprint)
    # Each passkey ceremony's begin writes a challenge row, signed in or not: bound them per IP.
    app.extensions["tessera.limiter"].limit(passkey_api.RATE_LIMIT)(passkey_api.bp)
    claim_the_rest(app, PAGES)
    claim(app, WEBAUTHN)
    claim(app, HEALTH)
