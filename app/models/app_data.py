"""Small JSON values an application keeps per user (cosmicsync's custom user data).

application_id None is the user's own space (data written with a token whose login named no
application). A unique constraint treats NULLs as distinct, so a partial unique index keeps
one value per key there too.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class UserAppData(db.Model):
    __tablename__ = "user_app_data"
    __table_args__ = (
        UniqueConstraint("user_id", "application_id", "key"),
        Index("uq_user_app_data_own_key", "user_id", "key", unique=True,
              sqlite_where=text("application_id IS NULL"),
              postgresql_where=text("application_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
