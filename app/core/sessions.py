"""Sign-in sessions: one server-side row per login, found by a random secret in a cookie.

Everything that proves a login (the browser cookie now, tokens later) points at a row;
ending the row ends them all at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import NotFound
from app.core.services import services, setting
from app.extensions import db
from app.models import AuthSession, User
from app.models.types import utcnow

# Writing last_seen_at on every request would turn every page view into a write.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(user: User, *, client: ClientInfo, amr: list[str],
                  acr: str | None = None,
                  application_id: str | None = None) -> tuple[AuthSession, str]:
    """Open a new session; returns the row and the secret for the cookie (256 bits).

    application_id: the application the login named (cosmicsync's), kept as the default
    application of the data calls its tokens make.

    Every kind of login (hosted page, JSON dialect, passkey, sign-in link, after MFA) ends
    here, so this is where the user's last_login_at is set: a first factor alone, waiting
    for its second, has not logged anyone in."""
    now = utcnow()
    user.last_login_at = now
    secret = secrets.token_urlsafe(32)
    session = AuthSession(
        id=uuid.uuid4(),
        secret_hash=_digest(secret),
        user_id=user.id,
        user=user,
        created_at=now,
        last_seen_at=now,
        auth_time=now,
        expires_at=now + timedelta(seconds=setting("SESSION_ABSOLUTE_TIMEOUT")),
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        amr=list(amr),
        acr=acr,
        application_id=application_id,
    )
    db.session.add(session)
    audit.record(audit.LOGIN_SUCCEEDED, user_id=user.id, session_id=session.id, client=client,
                 amr=list(amr))
    return session, secret


def resolve_session(secret: str | None) -> AuthSession | None:
    """The live session a cookie secret names, or None. Ends a session found timed out."""
    if not secret or len(secret) > 128:
        return None
    session = db.session.scalar(
        select(AuthSession).where(AuthSession.secret_hash == _digest(secret))
    )
    if session is None or session.is_ended:
        return None
    now = utcnow()
    idle_limit = session.last_seen_at + timedelta(seconds=setting("SESSION_IDLE_TIMEOUT"))
    if now >= session.expires_at or now >= idle_limit:
        _end(session, reason="timeout")
        return None
    user = session.user
    if not user.is_active or user.is_locked:
        _end(session, reason="account_disabled")
        return None
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        session.last_seen_at = now
    return session


def note_token_use(session: AuthSession) -> None:
    """A token of this session was just used (the JSON API): move last_seen_at, so the
    sessions and devices lists show when it was last active. At most once per
    LAST_SEEN_RESOLUTION, by a conditional UPDATE: of many concurrent uses one writes, the
    others change nothing and wait for no lock."""
    now = utcnow()
    stale = now - LAST_SEEN_RESOLUTION
    if session.last_seen_at > stale:
        return
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session.id, AuthSession.last_seen_at <= stale)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False))
    set_committed_value(session, "last_seen_at", now)


def _end(session: AuthSession, *, reason: str, client: ClientInfo | None = None) -> None:
    session.ended_at = utcnow()
    session.end_reason = reason
    audit.record(audit.SESSION_ENDED, user_id=session.user_id, session_id=session.id,
                 client=client, reason=reason)


def end_session(session: AuthSession, *, reason: str, client: ClientInfo) -> None:
    if session.is_ended:
        return
    if reason == "logout":
        audit.record(audit.LOGOUT, user_id=session.user_id, session_id=session.id,
                     client=client)
    _end(session, reason=reason, client=client)


def active_sessions(user: User) -> list[AuthSession]:
    now = utcnow()
    idle_cutoff = now - timedelta(seconds=setting("SESSION_IDLE_TIMEOUT"))
    query = (
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None),
               AuthSession.expires_at > now, AuthSession.last_seen_at > idle_cutoff)
        .order_by(AuthSession.last_seen_at.desc())
    )
    return list(db.session.scalars(query))


def end_user_session(user: User, session_id: object, *, client: ClientInfo) -> AuthSession:
    """End one of the user's own sessions; anyone else's is reported as not found."""
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound("Session not found.", field="session_id") from None
    session = db.session.get(AuthSession, key)
    if session is None or session.user_id != user.id or session.is_ended:
        raise NotFound("Session not found.", field="session_id")
    end_session(session, reason="ended_by_user", client=client)
    return session


def end_all_sessions(user: User, *, reason: str, client: ClientInfo,
                     except_session_id: uuid.UUID | None = None) -> int:
    """End every live session of the user (but one, if named) in one statement, and every
    pending MFA login: a password that opened one may be the reason the sessions end."""
    query = update(AuthSession).where(AuthSession.user_id == user.id,
                                      AuthSession.ended_at.is_(None))
    if except_session_id is not None:
        query = query.where(AuthSession.id != except_session_id)
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session="fetch")
    )
    for hook in services().on_all_sessions_ended:
        hook(user)
    if result.rowcount:
        audit.record(audit.SESSION_ENDED, user_id=user.id, session_id=except_session_id,
                     client=client, reason=reason, count=result.rowcount, scope="others"
                     if except_session_id else "all")
    return result.rowcount

