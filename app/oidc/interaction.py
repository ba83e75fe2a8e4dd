"""Parking an authorization request while the person signs in or consents.

The validated request's parameters wait in the database (any instance can resume them)
under a random id that is also remembered in this browser's Flask session, so only the
browser that started a request can resume it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import session as browser_state
from sqlalchemy import delete

from app.extensions import db
from app.models import PendingAuthorization
from app.models.types import utcnow

PENDING_TTL = timedelta(minutes=15)
BROWSER_KEY = "pending_authorizations"
MAX_PER_BROWSER = 5


def park(client_id: str, params: dict, **flags) -> PendingAuthorization:
    now = utcnow()
    # Opportunistic clean-up keeps the table small without a scheduler.
    db.session.execute(delete(PendingAuthorization).where(PendingAuthorization.expires_at < now))
    pending = PendingAuthorization(id=secrets.token_urlsafe(24), client_id=client_id,
                                   params={"request": params, "flags": flags},
                                   created_at=now, expires_at=now + PENDING_TTL)
    db.session.add(pending)
    ids = [*browser_state.get(BROWSER_KEY, []), pending.id][-MAX_PER_BROWSER:]
    browser_state[BROWSER_KEY] = ids
    return pending


def load(pending_id: str) -> PendingAuthorization | None:
    if pending_id not in browser_state.get(BROWSER_KEY, []):
        return None
    pending = db.session.get(PendingAuthorization, pending_id)
    if pending is None or pending.expires_at <= utcnow():
        return None
    return pending


def request_params(pending: PendingAuthorization) -> dict:
    return pending.params["request"]


def flags(pending: PendingAuthorization) -> dict:
    return pending.params.get("flags", {})


def set_flag(pending: PendingAuthorization, name: str, value) -> None:
    # A new dict, so SQLAlchemy sees the JSON column change.
    pending.params = {**pending.params, "flags": {**flags(pending), name: value}}


def finish(pending: PendingAuthorization) -> None:
    db.session.delete(pending)
    browser_state[BROWSER_KEY] = [i for i in browser_state.get(BROWSER_KEY, []) if i != pending.id]
