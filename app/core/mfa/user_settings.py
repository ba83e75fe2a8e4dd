"""The per-user MFA settings row (email factor switch, preferred method)."""

from __future__ import annotations

from app.extensions import db
from app.models import MfaSettings, User


def find(user: User) -> MfaSettings | None:
    return db.session.get(MfaSettings, user.id)


def get_or_create(user: User) -> MfaSettings:
    row = find(user)
    if row is None:
        row = MfaSettings(user_id=user.id, email_enabled=False, preferred_method=None)
        db.session.add(row)
    return row
