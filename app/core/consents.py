"""Remembered consent: what each person allowed each client, and taking it back."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core import audit, tokens
from app.core.context import ClientInfo
from app.core.errors import NotFound
from app.extensions import db
from app.models import Consent, OAuthClient
from app.models.types import utcnow

CONSENT_GRANTED = "consent.granted"
CONSENT_REVOKED = "consent.revoked"


def find(user_id: uuid.UUID, client_id: str) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id))


def covers(user_id: uuid.UUID, client_id: str, scopes: set[str]) -> bool:
    consent = find(user_id, client_id)
    return consent is not None and consent.revoked_at is None and scopes <= consent.scopes


def grant(user_id: uuid.UUID, client_id: str, scopes: set[str], *,
          client: ClientInfo | None = None, explicit: bool = True) -> Consent:
    """Remember (or widen) a consent. A grant after a revocation starts a new epoch."""
    now = utcnow()
    consent = find(user_id, client_id)
    if consent is None:
        consent = Consent(id=uuid.uuid4(), user_id=user_id, client_id=client_id,
                          scope=" ".join(sorted(scopes)), granted_at=now, updated_at=now)
        db.session.add(consent)
    elif consent.revoked_at is not None:
        consent.scope = " ".join(sorted(scopes))
        consent.granted_at = now
        consent.revoked_at = None
        consent.updated_at = now
    elif not scopes <= consent.scopes:
        consent.scope = " ".join(sorted(consent.scopes | scopes))
        consent.updated_at = now
    if explicit:
        audit.record(CONSENT_GRANTED, user_id=user_id, client=client, client_id=client_id,
                     scope=" ".join(sorted(scopes)))
    return consent


def allows_token(user_id: uuid.UUID, client_id: str, issued_at: int | float) -> bool:
    """Was this client's token for this user issued under a consent that still stands?"""
    consent = find(user_id, client_id)
    if consent is None or consent.revoked_at is not None:
        return False
    # JWT iat has one-second resolution; a token minted in the same second as the grant
    # belongs to it.
    return issued_at >= int(consent.granted_at.timestamp())


def connected_apps(user_id: uuid.UUID) -> list[tuple[Consent, OAuthClient]]:
    rows = db.session.execute(
        select(Consent, OAuthClient).join(OAuthClient, OAuthClient.client_id == Consent.client_id)
        .where(Consent.user_id == user_id, Consent.revoked_at.is_(None))
        .order_by(Consent.updated_at.desc())
    ).all()
    return [(consent, client) for consent, client in rows]


def revoke(user_id: uuid.UUID, client_id: str, *, client: ClientInfo) -> None:
    """Take back a consent: the client's refresh and access tokens for this person die now."""
    consent = find(user_id, client_id)
    if consent is None or consent.revoked_at is not None:
        raise NotFound("This app is not connected.", field="client_id")
    consent.revoked_at = utcnow()
    tokens.revoke_for_user(user_id, "consent_revoked", client_id=client_id)
    audit.record(CONSENT_REVOKED, user_id=user_id, client=client, client_id=client_id)
