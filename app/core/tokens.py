"""Access tokens (RFC 9068 JWTs) and refresh tokens (opaque, hashed, rotated).

Verifying an access token trusts nothing in its header: the kid only selects one of our own
published keys, and the algorithm is the one pinned to that key, so `alg: none`, an HMAC
keyed with our public key, or a key embedded in the token itself can never verify; that rule
lives in signed_jwt, shared with every other JWT we read. A token of an ended session (or of
a deactivated or locked user: the rule lives in session_bound), a token revoked by jti, and a
user's token whose consent was revoked stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.core import audit, consents, session_bound, signed_jwt, upsert
from app.core.errors import (
    InvalidGrant,
    InvalidScope,
    InvalidToken,
    RefreshTokenReused,
    TokenExpired,
)
from app.core.services import setting
from app.extensions import db
from app.models import RefreshToken, RevokedAccessToken
from app.models.types import utcnow

AT_JWT_TYP = "at+jwt"
REFRESH_PREFIX = "rt_"
REFRESH_REUSED = "refresh_token.reused"
# Claims issue_access_token owns; extra_claims may not override them.
_RESERVED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id",
                              "scope", "sid"})


# --- access tokens -------------------------------------------------------------------------

def issue_access_token(*, subject: str, client_id: str | None, scope: str,
                       audience: str | list[str], session_id: uuid.UUID | None,
                       lifetime: int | None = None,
                       extra_claims: dict | None = None) -> tuple[str, dict]:
    """Sign an RFC 9068 access token with the active key of ACCESS_TOKEN_ALG.

    Returns (jwt, claims). extra_claims adds claims such as auth_time, acr or amr.
    """
    extra = dict(extra_claims or {})
    clash = _RESERVED_CLAIMS & extra.keys()
    if clash:
        raise ValueError(f"extra_claims may not set {', '.join(sorted(clash))}")
    alg = setting("ACCESS_TOKEN_ALG")
    now = int(time.time())
    claims = {
        **extra,
        "iss": setting("ISSUER"),
        "sub": str(subject),
        "aud": audience,
        "exp": now + (lifetime if lifetime is not None else setting("ACCESS_TOKEN_TTL")),
        "iat": now,
        "jti": secrets.token_urlsafe(16),
        "scope": scope,
    }
    if client_id is not None:
        claims["client_id"] = client_id
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = signed_jwt.sign(claims, alg=alg, typ=AT_JWT_TYP)
    return token, claims


def verify_access_token(token: str, *, audience: str | None = None, leeway: int = 0,
                        allow_expired_for: int = 0) -> dict:
    """Check an access token and return its claims; raises InvalidToken or TokenExpired.

    The signature is checked by signed_jwt (our keys, each key's pinned algorithm, no crit,
    no size beyond its bound); here only what makes it an access token: the at+jwt typ, the
    claims, and that nothing has taken it back since (its jti revoked, its session ended,
    its user deactivated, the consent it was issued under revoked).

    allow_expired_for: seconds past exp during which an otherwise valid token is still
    accepted (for the few callers that deliberately allow that, e.g. refresh-with-expired).
    """
    if allow_expired_for > revocation_margin():
        raise ValueError(f"allow_expired_for may not exceed {revocation_margin()} seconds")
    header, claims = signed_jwt.verify(token, what="access token")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in (AT_JWT_TYP,
                                                       "application/" + AT_JWT_TYP):
        raise InvalidToken("The token is not an access token.")
    _check_claims(claims, audience=audience, leeway=leeway,
                  allow_expired_for=allow_expired_for)
    if _is_revoked(claims.get("jti")):
        raise InvalidToken("The access token has been revoked.")
    if "sid" in claims:
        _check_session(claims["sid"])
        if "client_id" in claims:
            _check_consent(claims)
    return claims


def _check_claims(claims: dict, *, audience: str | None, leeway: int,
                  allow_expired_for: int) -> None:
    now = time.time()
    if claims.get("iss") != setting("ISSUER"):
        raise InvalidToken("The access token was issued by someone else.")
    if not isinstance(claims.get("sub"), str):
        raise InvalidToken("The access token has no subject.")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidToken("The access token has no expiry.")
    if now >= exp + leeway and now >= exp + allow_expired_for:
        raise TokenExpired()
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or now + leeway < nbf):
        raise InvalidToken("The access token is not valid yet.")
    if audience is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise InvalidToken("The access token is not meant for this audience.")


def _check_session(session_id: object) -> None:
    if session_bound.live_session(session_id) is None:
        raise InvalidToken("The session of this access token has ended.")


def _check_consent(claims: dict) -> None:
    """A user's token for a client lives only as long as the consent it was issued under."""
    iat = claims.get("iat")
    try:
        user_id = uuid.UUID(claims["sub"])
    except ValueError:
        raise InvalidToken("The access token has an invalid subject.") from None
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidToken("The access token has no issue time.")
    if not consents.allows_token(user_id, str(claims["client_id"]), iat):
        raise InvalidToken("The consent this access token was issued under was revoked.")


# --- revoking one access token --------------------------------------------------------------
# Ending the session stops every token of a session. A single token (RFC 7009 revocation, or
# one issued for a replayed authorization code) is refused by jti. The row is kept until
# revocation_margin() past the token's exp, so a caller that accepts recently expired tokens
# (cosmicsync's refresh, within API_EXPIRED_TOKEN_GRACE) cannot revive a revoked one;
# purge_expired() drops rows after that. In the database, so every instance refuses the
# token and a restart forgets nothing.
MIN_REVOCATION_MARGIN = 24 * 3600


def revocation_margin() -> int:
    return max(MIN_REVOCATION_MARGIN, setting("API_EXPIRED_TOKEN_GRACE"))


def revoke_access_token(claims: dict) -> None:
    """Refuse the access token with these claims (jti and exp are read) from now on.

    Idempotent: revoking a token twice (or concurrently) keeps one row.
    """
    jti, exp = claims.get("jti"), claims.get("exp")
    if (not isinstance(jti, str) or not jti or len(jti) > 64
            or not isinstance(exp, int | float) or isinstance(exp, bool)):
        raise ValueError("revoke_access_token needs the token's jti and exp")
    if exp + revocation_margin() <= time.time():
        return  # no check accepts it any more
    purge_expired()
    # One statement: a concurrent revocation of the same token keeps its row, and neither
    # fails.
    upsert.insert_or_keep(RevokedAccessToken, {
        "jti": jti, "expires_at": datetime.fromtimestamp(exp, tz=UTC), "revoked_at": utcnow(),
    }, conflict=("jti",))


def _is_revoked(jti: object) -> bool:
    if not isinstance(jti, str) or not jti:
        return False
    return db.session.scalar(
        select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti)) is not None


def purge_expired(now: datetime | None = None) -> int:
    """Delete revocations of tokens that expired more than revocation_margin() ago; returns
    how many. Cheap (an indexed range delete), so callers run it opportunistically."""
    cutoff = (now or utcnow()) - timedelta(seconds=revocation_margin())
    result = db.session.execute(
        delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= cutoff)
        .execution_options(synchronize_session=False))
    return result.rowcount


# --- refresh tokens ------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(*, user_id: uuid.UUID | None, client_id: str, scope: str,
                        session_id: uuid.UUID | None,
                        family: RefreshToken | None = None) -> tuple[str, RefreshToken]:
    """A new opaque refresh token; with family (the token it replaces) it joins that family
    and keeps the family's absolute expiry."""
    now = utcnow()
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    if family is not None:
        family_id, parent_id, expires_at = family.family_id, family.id, family.expires_at
    else:
        family_id, parent_id = uuid.uuid4(), None
        expires_at = now + timedelta(seconds=setting("REFRESH_TOKEN_TTL"))
    idle = now + timedelta(seconds=setting("REFRESH_TOKEN_IDLE_TTL"))
    row = RefreshToken(
        id=uuid.uuid4(), token_digest=_digest(token), family_id=family_id, parent_id=parent_id,
        user_id=user_id, session_id=session_id, client_id=client_id, scope=scope,
        created_at=now, expires_at=expires_at, idle_expires_at=min(idle, expires_at),
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def find_refresh_token(token: object) -> RefreshToken | None:
    """The row a refresh token names, whatever its state; None for anything unknown."""
    if not isinstance(token, str) or not token.startswith(REFRESH_PREFIX) or len(token) > 128:
        return None
    return db.session.scalar(select(RefreshToken).where(
        RefreshToken.token_digest == _digest(token)))


def _refresh_problem(row: RefreshToken, now: datetime) -> str | None:
    """Why a refresh token can no longer be used, or None when it still can."""
    if row.is_used:
        return "The refresh token was already used."
    if row.is_revoked:
        return "The refresh token has been revoked."
    if row.is_expired(now):
        return "The refresh token has expired."
    if not session_bound.token_is_alive(session_id=row.session_id, user_id=row.user_id):
        if row.session_id is not None:
            return "The sign-in session of this refresh token has ended."
        return "The refresh token is invalid."
    return None


def refresh_token_is_active(row: RefreshToken) -> bool:
    """Would rotating this token succeed (as far as the token itself goes)? For
    introspection: the same checks rotate_refresh_token makes, without spending it."""
    return _refresh_problem(row, utcnow()) is None


def rotate_refresh_token(token: str, *, client_id: str,
                         scope: str | None = None) -> tuple[str, RefreshToken, RefreshToken]:
    """Spend a refresh token and issue its successor: (new token, new row, old row).

    A narrower scope may be asked for; it applies to the access token issued alongside,
    while the new refresh token keeps the grant's scope (RFC 6749 §6). Presenting a token
    that was already rotated is reuse: the whole family is revoked (RefreshTokenReused).
    """
    old = find_refresh_token(token)
    if old is None or old.client_id != client_id:
        raise InvalidGrant("The refresh token is invalid.")
    if old.is_used:
        _reused(old)
    now = utcnow()
    problem = _refresh_problem(old, now)
    if problem is not None:
        raise InvalidGrant(problem)
    if scope is not None:
        granted = set(old.scope.split())
        if not set(scope.split()) <= granted:
            raise InvalidScope("The requested scope exceeds the scope originally granted.",
                               field="scope")
    # Spend it with a conditional UPDATE: of two concurrent rotations exactly one changes a
    # row; the other sees rowcount 0 and is treated as the reuse it looks like.
    spent = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == old.id, RefreshToken.used_at.is_(None),
               RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        _reused(old)
    set_committed_value(old, "used_at", now)
    new_token, new = issue_refresh_token(user_id=old.user_id, client_id=old.client_id,
                                         scope=old.scope, session_id=old.session_id,
                                         family=old)
    return new_token, new, old


def _reused(row: RefreshToken):
    revoke_family(row.family_id, "reuse")
    audit.record(REFRESH_REUSED, user_id=row.user_id, session_id=row.session_id,
                 client_id=row.client_id, family_id=str(row.family_id))
    raise RefreshTokenReused()


def _revoke(*criteria, reason: str) -> int:
    result = db.session.execute(
        update(RefreshToken)
        .where(*criteria, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:32])
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def pair_access_token(row: RefreshToken, access_claims: dict) -> None:
    """Remember the access token issued beside a refresh token, so revoking the family
    refuses it too (see revoke_family)."""
    row.access_token_jti = access_claims["jti"]
    row.access_token_expires_at = datetime.fromtimestamp(access_claims["exp"], tz=UTC)


def revoke_family(family_id: uuid.UUID, reason: str) -> int:
    """Revoke every token descended from one grant, and every access token issued beside
    one of them (a reused token's thief and the legitimate holder alike lose the access
    tokens they hold, not only the refresh tokens); returns how many refresh tokens were
    still live."""
    count = _revoke(RefreshToken.family_id == family_id, reason=reason)
    paired = db.session.execute(
        select(RefreshToken.access_token_jti, RefreshToken.access_token_expires_at)
        .where(RefreshToken.family_id == family_id,
               RefreshToken.access_token_jti.is_not(None),
               # Older ones are refused by their expiry alone (see revoke_access_token).
               RefreshToken.access_token_expires_at
               > utcnow() - timedelta(seconds=revocation_margin()))).all()
    for jti, expires_at in paired:
        revoke_access_token({"jti": jti, "exp": int(expires_at.timestamp())})
    return count


def revoke_refresh_token(token: str, *, client_id: str) -> bool:
    """Revoke a token and its whole family (RFC 7009). False when the token is unknown or
    belongs to another client; the caller answers 200 either way."""
    row = find_refresh_token(token)
    if row is None or row.client_id != client_id:
        return False
    revoke_family(row.family_id, "revoked")
    return True


def revoke_for_session(session_id: uuid.UUID, reason: str) -> int:
    return _revoke(RefreshToken.session_id == session_id, reason=reason)


def revoke_for_user(user_id: uuid.UUID, reason: str, client_id: str | None = None) -> int:
    criteria = [RefreshToken.user_id == user_id]
    if client_id is not None:
        criteria.append(RefreshToken.client_id == client_id)
    return _revoke(*criteria, reason=reason)


def expires_in(row: RefreshToken, now: datetime | None = None) -> int:
    """Seconds until a refresh token stops working (the sooner of its two expiries)."""
    now = now or utcnow()
    return max(0, int((min(row.expires_at, row.idle_expires_at) - now).total_seconds()))
