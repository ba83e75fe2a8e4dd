"""How the JSON API plugs into the app: its OpenAPI documents, then every mounted dialect
(last, so a dialect's paths are checked against everything else the app serves)."""

from __future__ import annotations

from flask import Flask

from app.api import openapi, registry
from app.http.errors import json_error
from app.http.surfaces import Surface, claim

OPENAPI = Surface("api.openapi", render=json_error, prefixes=("/openapi/",))


def register(app: Flask) -> None:
    app.register_blueprint(openapi.bp)
    claim(app, OPENAPI)
    registry.register(app)
