"""Parked authorization requests: a request waiting while the person signs in or consents.

The authorization endpoint validates a request, parks its parameters here and sends the
person to a page; the page records what the person decided (here too) and sends them back
to the endpoint, which resumes the request. So the pages and the protocol code share this
record, not each other's modules.

The parameters wait in the database (any instance can resume them) under a random id that
is also remembered in the browser's own state (Flask's session cookie, passed in as
`browser`), so only the browser that started a request can resume it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import MutableMapping
from datetime import timedelta

from sqlalchemy import delete

from app.core import consents
from app.core.context import ClientInfo
from app.extensions import db
from app.models import PendingAuthorization
from app.models.types import utcnow

PENDING_TTL = timedelta(minutes=15)
# The key under which a browser's state lists the requests it parked; a sign-in that
# clears that state keeps this key so the requests waiting for it survive.
BROWSER_KEY = "pending_authorizations"
MAX_PER_BROWSER = 5

# Decisions a page records for the authorization endpoint to act on when it resumes.
CONSENTED = "consented"
DECLINED = "declined"


def park(browser: MutableMapping, client_id: str, params: dict,
         **flags) -> PendingAuthorization:
    now = utcnow()
    # Opportunistic clean-up keeps the table small without a scheduler.
    db.session.execute(delete(PendingAuthorization).where(PendingAuthorization.expires_at < now))
    pending = PendingAuthorization(id=secrets.token_urlsafe(24), client_id=client_id,
                                   params={"request": params, "flags": flags},
                                   created_at=now, expires_at=now + PENDING_TTL)
    db.session.add(pending)
    ids = [*browser.get(BROWSER_KEY, []), pending.id][-MAX_PER_BROWSER:]
    browser[BROWSER_KEY] = ids
    return pending


def load(browser: MutableMapping, pending_id: str) -> PendingAuthorization | None:
    """The parked request, if this browser parked it and it has not expired."""
    if pending_id not in browser.get(BROWSER_KEY, []):
        return None
    pending = db.session.get(PendingAuthorization, pending_id)
    if pending is None or pending.expires_at <= utcnow():
        return None
    return pending


def request_params(pending: PendingAuthorization) -> dict:
    return pending.params["request"]


def requested_scopes(pending: PendingAuthorization) -> list[str]:
    """The scopes the request asks for, in its order, each once; the authorization
    endpoint checked them against the client before it parked the request."""
    return list(dict.fromkeys(request_params(pending).get("scope", "").split()))


def flags(pending: PendingAuthorization) -> dict:
    return pending.params.get("flags", {})


def set_flag(pending: PendingAuthorization, name: str, value) -> None:
    # A new dict, so SQLAlchemy sees the JSON column change.
    pending.params = {**pending.params, "flags": {**flags(pending), name: value}}


def approve(pending: PendingAuthorization, user_id: uuid.UUID, *,
            client: ClientInfo) -> None:
    """The person allowed the client what it asked: remember the consent for next time,
    and that this request has it."""
    set_flag(pending, CONSENTED, True)
    consents.grant(user_id, pending.client_id, set(requested_scopes(pending)), client=client)


def decline(pending: PendingAuthorization) -> None:
    """The person refused: the request resumes only to tell the client so."""
    set_flag(pending, DECLINED, True)


def finish(browser: MutableMapping, pending: PendingAuthorization) -> None:
    db.session.delete(pending)
    browser[BROWSER_KEY] = [i for i in browser.get(BROWSER_KEY, []) if i != pending.id]
