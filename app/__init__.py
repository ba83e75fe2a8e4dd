"""The Tessera application factory: start-up reads top to bottom as a list of steps."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import PROJECT_ROOT, instance_path, load_settings


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(instance_path()),
    )
    configure_settings(app, overrides)
    configure_logging(app)
    configure_extensions(app)
    configure_services(app)
    configure_blueprints(app)
    configure_request_edge(app)
    return app


def configure_settings(app: Flask, overrides: dict[str, Any] | None) -> None:
    settings = load_settings(overrides=overrides)
    app.config.update(settings)
    https = settings["ISSUER"].startswith("https://")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        # No pre-ping: it costs a round trip per checkout on the token hot path. A dropped
        # connection fails one request and SQLAlchemy then refreshes the whole pool.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_recycle": 1800},
        SECURE_COOKIES=https,
        # Flask's own signed cookie carries only the CSRF token and flashed messages.
        SESSION_COOKIE_NAME="__Host-tessera_state" if https else "tessera_state",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=1024 * 1024,
        RATELIMIT_STORAGE_URI=settings["REDIS_URL"] or "memory://",
        RATELIMIT_KEY_PREFIX=f"{settings['KEY_PREFIX']}:limits",
        RATELIMIT_HEADERS_ENABLED=True,
    )
    if settings["TRUST_PROXY_HOPS"] > 0:
        hops = settings["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def configure_logging(app: Flask) -> None:
    app.logger.setLevel(getattr(logging, app.config["LOG_LEVEL"].upper()))


def configure_extensions(app: Flask) -> None:
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from app import models  # noqa: F401  (registers every table with the metadata)
    from app.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    # One limiter per app: limits are read from this app's configuration when its
    # dialects are mounted, and counted in Redis when configured.
    app.extensions["tessera.limiter"] = Limiter(get_remote_address, app=app)
    # flask-limiter adds Retry-After to every limited response, a 200 included; it belongs
    # on a refusal only (RFC 9110 §10.2.3, RFC 6585 §4). First in the list, so it runs after
    # the limiter's own hook (Flask calls after_request functions in reverse order).
    app.after_request_funcs.setdefault(None, []).insert(0, _retry_after_only_on_refusals)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None


RETRY_AFTER_STATUSES = frozenset({429, 503})


def _retry_after_only_on_refusals(response):
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def configure_services(app: Flask) -> None:
    from app.core import wiring
    from app.core.services import Services

    services = Services.from_config(app.config)
    wiring.connect(services)
    app.extensions["tessera"] = services
    if app.config["REDIS_URL"]:
        import redis

        app.extensions["tessera.redis"] = redis.Redis.from_url(app.config["REDIS_URL"])


def configure_blueprints(app: Flask) -> None:
    from app.api import openapi, registry
    from app.oidc import authorize, discovery, endpoints, logout, server, userinfo, wellknown
    from app.web import (
        account,
        auth,
        consent,
        errors,
        health,
        mail_pages,
        mfa_login,
        passkey_api,
        security,
    )

    app.extensions["tessera.oauth"] = server.build(app)
    for blueprint in (health.bp, auth.bp, account.bp, consent.bp, wellknown.bp,
                      discovery.bp, authorize.bp, endpoints.bp, userinfo.bp, logout.bp, openapi.bp,
                      mail_pages.bp, mfa_login.bp, passkey_api.bp, security.bp):
        app.register_blueprint(blueprint)
    # Each passkey ceremony's begin writes a challenge row, signed in or not: bound them per IP.
    app.extensions["tessera.limiter"].limit(passkey_api.RATE_LIMIT)(passkey_api.bp)
    registry.register(app)
    errors.register(app)


def configure_request_edge(app: Flask) -> None:
    from app.web import edge

    edge.register(app)
