"""Remembered consent: what each person allowed each client, and whether a token still
stands on it.

Taking a consent back also ends the client's tokens, so it lives a layer up, in
connected_clients (tokens reads this module to refuse a token of a withdrawn consent).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core import audit, upsert
from app.core.context import ClientInfo
from app.extensions import db
from app.models import Consent
from app.models.types import utcnow

CONSENT_GRANTED = "consent.granted"


def find(user_id: uuid.UUID, client_id: str) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id))


def covers(user_id: uuid.UUID, client_id: str, scopes: set[str]) -> bool:
    consent = find(user_id, client_id)
    return consent is not None and consent.revoked_at is None and scopes <= consent.scopes


def grant(user_id: uuid.UUID, client_id: str, scopes: set[str], *,
          client: ClientInfo | None = None, explicit: bool = True) -> Consent:
    """Remember (or widen) a consent. A grant after a revocation starts a new epoch.

    The row is created with an upsert and then read locked, so concurrent first
    authorizations of one person (a skip-consent client opened in many tabs) make one row
    and no error, and concurrent widenings do not drop each other's scopes.
    """
    now = utcnow()
    asked = " ".join(sorted(scopes))
    created = upsert.insert_or_keep(
        Consent, {"id": uuid.uuid4(), "user_id": user_id, "client_id": client_id,
                  "scope": asked, "granted_at": now, "updated_at": now, "revoked_at": None},
        conflict=("user_id", "client_id"))
    consent = db.session.scalar(
        select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
        .with_for_update().execution_options(populate_existing=True))
    if not created and consent.revoked_at is not None:
        consent.scope = asked
        consent.granted_at = now
        consent.revoked_at = None
        consent.updated_at = now
    elif not created and not scopes <= consent.scopes:
        consent.scope = " ".join(sorted(consent.scopes | scopes))
        consent.updated_at = now
    if explicit:
        audit.record(CONSENT_GRANTED, user_id=user_id, client=client, client_id=client_id,
                     scope=asked)
    return consent


def allows_token(user_id: uuid.UUID, client_id: str, issued_at: int | float) -> bool:
    """Was this client's token for this user issued under a consent that still stands?"""
    consent = find(user_id, client_id)
    if consent is None or consent.revoked_at is not None:
        return False
    # JWT iat has one-second resolution; a token minted in the same second as the grant
    # belongs to it.
    return issued_at >= int(consent.granted_at.timestamp())
