"""GET /health: can this instance reach what it depends on?

The database is probed on its own connection in a helper thread, and /health answers
within `TESSERA_HEALTH_TIMEOUT` whatever the database does: a probe still waiting then is
reported as `timeout` (it ends on its own within the database timeouts).
"""

import threading

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Engine, text

from app.core.db_outage import UNREACHABLE, outage
from app.extensions import csrf, db

bp = Blueprint("health", __name__)
csrf.exempt(bp)

OK = "ok"
TIMEOUT = "timeout"


@bp.get("/health")
def health():
    checks = {"database": _check_database(db.engine, current_app.config["HEALTH_TIMEOUT"])}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _check_redis()
    healthy = all(value == OK for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


def _check_database(engine: Engine, deadline: float) -> str:
    result: list[str] = []
    probe = threading.Thread(target=_probe, args=(engine, result), daemon=True,
                             name="tessera-health-probe")
    probe.start()
    probe.join(deadline)
    return result[0] if result else TIMEOUT


def _probe(engine: Engine, result: list[str]) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result.append(OK)
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        result.append(outage(error) or UNREACHABLE)


def _check_redis() -> str:
    try:
        current_app.extensions["tessera.redis"].ping()
        return "ok"
    except Exception:  # noqa: BLE001
        return "unreachable"
