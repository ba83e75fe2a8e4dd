"""GET /.well-known/jwks.json: the public keys relying parties verify our tokens with."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.core import keys
from app.core.db_outage import outage
from app.extensions import csrf, db
from app.http import db_unavailable

bp = Blueprint("wellknown", __name__)
csrf.exempt(bp)

_ENSURED = "tessera.keys_ensured"


def _ensure_keys_once() -> None:
    """Create missing signing keys on first use rather than at import or start-up, so
    commands like `tessera db upgrade` run before any key table exists."""
    if current_app.extensions.get(_ENSURED):
        return
    if keys.ensure_keys():
        db.session.commit()
    current_app.extensions[_ENSURED] = True


@bp.get("/.well-known/jwks.json")
def jwks():
    try:
        _ensure_keys_once()
        document = keys.jwks()
    except SQLAlchemyError as error:
        # With the database down, relying parties still verify tokens with the keys this
        # process read last; before any read there is nothing to serve (503).
        document = keys.last_known_jwks() if outage(error) else None
        if document is None:
            raise
        db_unavailable.served_from_memory(error)
    response = jsonify(document)
    # Relying parties and caches may hold it a minute; a next key is published well before
    # it signs anything, so a cached copy never misses a key in use.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
