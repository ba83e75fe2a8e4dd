"""Keys that sign tokens: one active and one next per algorithm, plus recently retired ones.

The private half is stored encrypted (AES-256-GCM, key id bound in as associated data), so a
database dump alone signs nothing. Two partial unique indexes make "one active and one next
key per algorithm" a rule of the database, not only of the code: two instances starting or
rotating at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

NEXT = "next"
ACTIVE = "active"
RETIRED = "retired"


class SigningKey(db.Model):
    __tablename__ = "signing_keys"
    __table_args__ = (
        Index("uq_signing_keys_active_alg", "alg", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        Index("uq_signing_keys_next_alg", "alg", unique=True,
              sqlite_where=text("state = 'next'"), postgresql_where=text("state = 'next'")),
    )

    # RFC 7638 thumbprint of the public key: unique, stable, and meaningless to an attacker.
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    private_nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    private_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def to_dict(self) -> dict:
        """What `tessera keys list` prints: metadata only, never key material."""
        return {
            "kid": self.kid,
            "alg": self.alg,
            "state": self.state,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }
