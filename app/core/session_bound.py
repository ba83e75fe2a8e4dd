"""A token dies with its session: the one rule every token check applies.

A person's tokens (the authorization code, access tokens, refresh tokens) name the sign-in
session they were issued under, and work only while that session is live: not ended, not
past its absolute expiry, and its user still allowed to sign in (active, not locked).
Logout, signing out everywhere, a password change, deactivation or an administrator ending
the session therefore ends every token of it at once, with no list of tokens to revoke.
The idle timeout is the browser's and is not applied: using a token is not browser activity.

A token issued to a person without a session answers to its user alone; a client's token
for itself (client_credentials) has neither and is bound by its own expiry only.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import AuthSession, User
from app.models.types import utcnow


def may_hold_tokens(user: User | None) -> bool:
    """Can this user's tokens still be used: the account exists, is active and unlocked."""
    return user is not None and user.is_active and not user.is_locked


def live_session(session_id: object) -> AuthSession | None:
    """The session a token names, when its tokens still work; None otherwise."""
    try:
        key = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        return None
    row = db.session.execute(
        select(AuthSession, User).join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == key)
    ).first()
    if row is None:
        return None
    session, user = row
    if session.ended_at is not None or utcnow() >= session.expires_at:
        return None
    if not may_hold_tokens(user):
        return None
    return session


def token_is_alive(*, session_id: object | None, user_id: uuid.UUID | None) -> bool:
    """Does what a token was issued under still stand: its session, or (issued without one)
    its user?"""
    if session_id is not None:
        return live_session(session_id) is not None
    if user_id is not None:
        return may_hold_tokens(db.session.get(User, user_id))
    return True
