"""The clients a person has let in (the account page's connected apps), and disconnecting one.

Disconnecting withdraws the consent and ends the client's refresh tokens for that person at
once; its access tokens stop working too, because tokens refuses any token issued under a
withdrawn consent.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core import audit, consents, tokens
from app.core.context import ClientInfo
from app.core.errors import NotFound
from app.extensions import db
from app.models import Consent, OAuthClient
from app.models.types import utcnow

CONSENT_REVOKED = "consent.revoked"


def for_user(user_id: uuid.UUID) -> list[tuple[Consent, OAuthClient]]:
    """The apps the person has let in (consent not withdrawn), most recently changed first."""
    rows = db.session.execute(
        select(Consent, OAuthClient).join(OAuthClient, OAuthClient.client_id == Consent.client_id)
        .where(Consent.user_id == user_id, Consent.revoked_at.is_(None))
        .order_by(Consent.updated_at.desc())
    ).all()
    return [(consent, client) for consent, client in rows]


def disconnect(user_id: uuid.UUID, client_id: str, *, client: ClientInfo) -> None:
    """Take back a consent: the client's refresh and access tokens for this person die now."""
    consent = consents.find(user_id, client_id)
    if consent is None or consent.revoked_at is not None:
        raise NotFound("This app is not connected.", field="client_id")
    consent.revoked_at = utcnow()
    tokens.revoke_for_user(user_id, "consent_revoked", client_id=client_id)
    audit.record(CONSENT_REVOKED, user_id=user_id, client=client, client_id=client_id)
