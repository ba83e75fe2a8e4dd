"""One-time tokens (verification, password reset, magic link) and one-time codes.

Only a digest is stored: SHA-256 for link tokens (128+ random bits need no slow hash),
an HMAC keyed by the secret key for 6-digit codes (a million codes are no secret without
the key). Each row is bound to one user, one purpose and the address (email or phone) it
was sent to.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class OneTimeToken(db.Model):
    __tablename__ = "one_time_tokens"
    __table_args__ = (Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # None only for a sign-in link sent to an address with no account yet: using it may
    # create the account (a document's `allow_registration`).
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    purpose: Mapped[str] = mapped_column(String(32))
    # "link" (a token in a URL) or "code" (six digits typed by a person).
    kind: Mapped[str] = mapped_column(String(8), default="link")
    digest: Mapped[str] = mapped_column(String(64), index=True)
    # Where the token was sent: the account's email, or its phone number for a code sent
    # by SMS. The token stops working if the account's address changes.
    # Indexed: signed-out requests count recent tokens by address.
    address: Mapped[str] = mapped_column(String(254), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
