"""GET /health: can this instance reach what it depends on?"""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import csrf, db

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/health")
def health():
    checks = {"database": _check_database()}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _check_redis()
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        db.session.rollback()
        return "unreachable"


def _check_redis() -> str:
    try:
        current_app.extensions["tessera.redis"].ping()
        return "ok"
    except Exception:  # noqa: BLE001
        return "unreachable"
