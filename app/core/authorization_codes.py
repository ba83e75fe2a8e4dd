"""Authorization codes: single-use, short-lived, stored hashed, bound to client and redirect.

A code used twice is a sign it leaked: the second use fails and everything the first use
issued is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import audit, tokens
from app.core.services import setting
from app.extensions import db
from app.models import AuthorizationCode, AuthSession, OAuthClient
from app.models.types import utcnow

CODE_REPLAYED = "authorization_code.replayed"


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue(*, client: OAuthClient, session: AuthSession, redirect_uri: str, scope: str,
          nonce: str | None, code_challenge: str | None, code_challenge_method: str | None,
          claims: dict | None) -> str:
    code = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(AuthorizationCode(
        id=uuid.uuid4(), code_digest=_digest(code), client_id=client.client_id,
        user_id=session.user_id, session_id=session.id, redirect_uri=redirect_uri, scope=scope,
        nonce=nonce, code_challenge=code_challenge, code_challenge_method=code_challenge_method,
        claims=claims, auth_time=session.auth_time, acr=session.acr, amr=list(session.amr or []),
        created_at=now, expires_at=now + timedelta(seconds=setting("AUTH_CODE_TTL")),
    ))
    return code


def find(code: object) -> AuthorizationCode | None:
    if not isinstance(code, str) or not code or len(code) > 256:
        return None
    return db.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_digest == _digest(code)))


def is_expired(row: AuthorizationCode) -> bool:
    return utcnow() >= row.expires_at


def claim(row: AuthorizationCode) -> bool:
    """Mark the code used, atomically: of two concurrent exchanges exactly one wins."""
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record_issued(row: AuthorizationCode, *, access_claims: dict,
                  refresh_family_id: uuid.UUID | None) -> None:
    db.session.execute(
        update(AuthorizationCode).where(AuthorizationCode.id == row.id).values(
            access_token_jti=access_claims["jti"],
            access_token_expires_at=utcnow() + timedelta(
                seconds=access_claims["exp"] - access_claims["iat"]),
            refresh_family_id=refresh_family_id,
        ).execution_options(synchronize_session=False)
    )


def revoke_issued(row: AuthorizationCode) -> None:
    """A replay: revoke the refresh token family and the access token the code produced."""
    db.session.refresh(row)
    if row.refresh_family_id is not None:
        tokens.revoke_family(row.refresh_family_id, "code_replayed")
    if row.access_token_jti and row.access_token_expires_at:
        tokens.revoke_access_token({"jti": row.access_token_jti,
                                    "exp": int(row.access_token_expires_at.timestamp())})
    audit.record(CODE_REPLAYED, user_id=row.user_id, client_id=row.client_id)
