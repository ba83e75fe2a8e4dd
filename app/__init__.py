"""The Tessera application factory: start-up reads top to bottom as a list of steps."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core import db_deadlines
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
    configure_request_edge(app)
    configure_surfaces(app)
    return app


def configure_settings(app: Flask, overrides: dict[str, Any] | None) -> None:
    settings = load_settings(overrides=overrides)
    app.config.update(settings)
    https = settings["ISSUER"].startswith("https://")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=db_deadlines.engine_options(settings),
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
        # A Redis that stops answering must fail a request in seconds, not hold its thread.
        RATELIMIT_STORAGE_OPTIONS=redis_timeouts(settings),
    )
    if settings["TRUST_PROXY_HOPS"] > 0:
        hops = settings["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def redis_timeouts(settings: dict[str, Any]) -> dict[str, float]:
    """Connect and read timeouts for every Redis client (limits, throttle, replay)."""
    if not settings["REDIS_URL"]:
        return {}
    seconds = settings["REDIS_TIMEOUT"]
    return {"socket_connect_timeout": seconds, "socket_timeout": seconds}


def configure_logging(app: Flask) -> None:
    app.logger.setLevel(getattr(logging, app.config["LOG_LEVEL"].upper()))


def configure_extensions(app: Flask) -> None:
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from app import models  # noqa: F401  (registers every table with the metadata)
    from app.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        # A stuck PostgreSQL fails a request within seconds instead of holding its worker.
        db_deadlines.install(db.engine, app.config)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    # One limiter per app: limits are read from this app's configuration when its
    # dialects are mounted, and counted in Redis when configured.
    app.extensions["tessera.limiter"] = Limiter(get_remote_address, app=app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None


def configure_services(app: Flask) -> None:
    from app.core import wiring
    from app.core.services import Services

    services = Services.from_config(app.config)
    wiring.connect(services)
    app.extensions["tessera"] = services
    if app.config["REDIS_URL"]:
        import redis

        app.extensions["tessera.redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], **app.config["RATELIMIT_STORAGE_OPTIONS"])


def configure_request_edge(app: Flask) -> None:
    from app import http

    http.register(app)


def configure_surfaces(app: Flask) -> None:
    """Pages, then the authorization server, then the JSON API: each registers its
    blueprints and claims its paths at the edge (the dialects last: their mounts are
    checked against every path the others serve)."""
    from app.api import surface as api
    from app.oidc import surface as oidc
    from app.web import surface as pages

    pages.register(app)
    oidc.register(app)
    api.register(app)
