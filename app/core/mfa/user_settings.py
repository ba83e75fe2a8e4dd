"""The per-user MFA settings row (email factor switch, preferred method)."""

from __future__ import annotations

from app.core import upsert
from app.extensions import db
from app.models import MfaSettings, User
from app.models.types import utcnow


def find(user: User) -> MfaSettings | None:
    return db.session.get(MfaSettings, user.id)


def get_or_create(user: User) -> MfaSettings:
    """The user's row, created when missing by an insert that a concurrent creation
    cannot turn into an error."""
    row = find(user)
    if row is None:
        upsert.insert_or_keep(MfaSettings, {"user_id": user.id, "email_enabled": False,
                                            "preferred_method": None, "updated_at": utcnow()},
                              conflict=("user_id",))
        row = find(user)
    return row
