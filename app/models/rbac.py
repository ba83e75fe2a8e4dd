"""Roles, permissions and who holds which role, globally or within one application."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

role_permissions = Table(
    "role_permissions",
    db.metadata,
    Column("role_id", Uuid, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", Uuid, ForeignKey("permissions.id", ondelete="CASCADE"),
           primary_key=True),
)


class Permission(db.Model):
    """A named right, `resource:action`; `*` stands for any resource or action."""

    __tablename__ = "permissions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # System roles are seeded by migrations and cannot be changed or deleted.
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    permissions: Mapped[list[Permission]] = relationship(secondary=role_permissions,
                                                         lazy="selectin")


class UserRole(db.Model):
    """A role held by a user, everywhere (application_id None) or in one application."""

    __tablename__ = "user_roles"
    # NULLs are distinct to a unique constraint: the partial index keeps a role held
    # everywhere to one row.
    __table_args__ = (
        UniqueConstraint("user_id", "role_id", "application_id"),
        Index("uq_user_roles_everywhere", "user_id", "role_id", unique=True,
              sqlite_where=text("application_id IS NULL"),
              postgresql_where=text("application_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("roles.id", ondelete="CASCADE"))
    application_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    role: Mapped[Role] = relationship(lazy="joined")
