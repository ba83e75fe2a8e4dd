"""Signing keys: generation, encryption at rest, rotation, and the public JWKS.

Each algorithm (RS256, ES256, EdDSA) has one active key that signs, one next key that is
already published so relying parties have it cached before it signs anything, and retired
keys that stay published for a grace period so tokens they signed keep verifying. Which key
is active is read from the database, so every instance agrees after a rotation; private keys
are decrypted once per process and cached by kid (a kid never changes its material).

Like the rest of core, nothing here commits: the caller (request edge, CLI) does.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from joserfc.errors import SecurityWarning
from joserfc.jwk import Key, generate_key, import_key
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from app.core.services import setting
from app.extensions import db
from app.models import SigningKey
from app.models.signing_key import ACTIVE, NEXT, RETIRED
from app.models.types import utcnow
from config.settings import SIGNING_ALGORITHMS

ALGORITHMS: tuple[str, ...] = SIGNING_ALGORITHMS
_KEY_SHAPES = {"RS256": ("RSA", 2048), "ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
# Served from memory, but short enough that a rotation on another instance shows up quickly.
JWKS_CACHE_SECONDS = 30
_CACHE = "tessera.jwks"
_ACTIVE_CACHE = "tessera.active_kids"
# The keys this process last read; kept through invalidate_cache() for a database outage.
_LAST_KNOWN = "tessera.jwks_last_known"

# joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519". Relying parties know "EdDSA"
# (OIDC discovery lists it) and few know "Ed25519" yet, so Tessera publishes EdDSA on
# purpose; the warning would fire on every signature.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

# Decrypted private keys by kid. Process-wide: kids are thumbprints, unique to their material.
_private_keys: dict[str, Key] = {}


class KeyUnavailable(RuntimeError):
    """A stored private key cannot be decrypted: the encryption key or secret key changed."""


# --- key derivation -----------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _hkdf(material: str, purpose: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=f"tessera:{purpose}".encode()).derive(material.encode())


def derived_secret(purpose: str, *, length: int = 32) -> bytes:
    """A key for one purpose derived from SECRET_KEY (HKDF), so no two uses share a key."""
    return _hkdf(setting("SECRET_KEY"), purpose, length)


def _encryption_key() -> bytes:
    material = setting("KEY_ENCRYPTION_KEY") or setting("SECRET_KEY")
    return _hkdf(material, "signing-key-encryption:v1", 32)


def _aad(kid: str, alg: str) -> bytes:
    # Binds a ciphertext to its row: swapping encrypted blobs between keys fails to decrypt.
    return f"tessera-signing-key:{kid}:{alg}".encode()


# --- creating and reading keys -------------------------------------------------------------

def _check_alg(alg: str) -> str:
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}; expected one of "
                         + ", ".join(ALGORITHMS))
    return alg


def _new_key(alg: str, state: str, now: datetime) -> SigningKey:
    key_type, size_or_curve = _KEY_SHAPES[alg]
    key = generate_key(key_type, size_or_curve)
    kid = key.thumbprint()
    params = {"kid": kid, "alg": alg, "use": "sig"}
    private = json.dumps(key.as_dict(private=True, **params)).encode()
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(_encryption_key()).encrypt(nonce, private, _aad(kid, alg))
    _private_keys[kid] = import_key(key.as_dict(private=True, **params))
    return SigningKey(
        kid=kid, alg=alg, state=state, public_jwk=key.as_dict(private=False, **params),
        private_nonce=nonce, private_ciphertext=ciphertext, created_at=now,
        activated_at=now if state == ACTIVE else None,
    )


def _insert_if_vacant(alg: str, state: str, now: datetime) -> SigningKey | None:
    """Add a key in a state; None when another instance filled that slot first.

    The partial unique indexes reject a second active (or next) key of one algorithm; the
    savepoint keeps the loser's transaction usable.
    """
    row = _new_key(alg, state, now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


def _slot(alg: str, state: str, *, lock: bool = False) -> SigningKey | None:
    query = select(SigningKey).where(SigningKey.alg == alg, SigningKey.state == state)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def ensure_keys() -> list[SigningKey]:
    """Give every algorithm an active and a next key; returns the keys created.

    Cheap when nothing is missing (one query per slot), so it is safe on every start.
    """
    now = utcnow()
    created = []
    for alg in ALGORITHMS:
        for state in (ACTIVE, NEXT):
            if _slot(alg, state) is None:
                row = _insert_if_vacant(alg, state, now)
                if row is not None:
                    created.append(row)
    if created:
        invalidate_cache()
    return created


def _decrypt(row: SigningKey) -> Key:
    try:
        plain = AESGCM(_encryption_key()).decrypt(row.private_nonce, row.private_ciphertext,
                                                  _aad(row.kid, row.alg))
    except InvalidTag:
        raise KeyUnavailable(
            f"signing key {row.kid} cannot be decrypted: TESSERA_KEY_ENCRYPTION_KEY "
            "(or TESSERA_SECRET_KEY, when that is unset) is not the one it was stored with"
        ) from None
    return import_key(json.loads(plain))


def _active_kid(alg: str) -> str:
    """The active kid for an algorithm, remembered as long as the published-key cache.

    Signing is the hot path of every token; after a rotation elsewhere this instance may
    sign with the just-retired key for a few seconds, which verifies for its whole grace.
    """
    cached = current_app.extensions.get(_ACTIVE_CACHE)
    if cached is not None and cached[0] > time.monotonic() and alg in cached[1]:
        return cached[1][alg]
    kid = db.session.scalar(
        select(SigningKey.kid).where(SigningKey.alg == alg, SigningKey.state == ACTIVE))
    if kid is None:
        ensure_keys()
        kid = db.session.scalar(
            select(SigningKey.kid).where(SigningKey.alg == alg, SigningKey.state == ACTIVE))
        if kid is None:  # pragma: no cover - ensure_keys guarantees one
            raise KeyUnavailable(f"no active {alg} signing key")
    kids = cached[1] if cached is not None and cached[0] > time.monotonic() else {}
    current_app.extensions[_ACTIVE_CACHE] = (time.monotonic() + JWKS_CACHE_SECONDS,
                                             {**kids, alg: kid})
    return kid


def signing_key(alg: str) -> tuple[str, Key]:
    """(kid, private key) of the active key for an algorithm, creating keys if there are none."""
    _check_alg(alg)
    kid = _active_kid(alg)
    key = _private_keys.get(kid)
    if key is None:
        key = _decrypt(db.session.get(SigningKey, kid))
        _private_keys[kid] = key
    return kid, key


# --- what is published ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Published:
    alg: str
    jwk: dict
    key: Key


def _grace_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=setting("KEY_RETIRED_GRACE_DAYS"))


def _is_published(row: SigningKey, now: datetime) -> bool:
    if row.state in (ACTIVE, NEXT):
        return True
    return row.retired_at is not None and row.retired_at > _grace_cutoff(now)


_STATE_ORDER = {ACTIVE: 0, NEXT: 1, RETIRED: 2}


def _rotation_due(rows: list[SigningKey], now: datetime) -> bool:
    due_before = now - timedelta(days=setting("KEY_ROTATION_DAYS"))
    return any(row.state == ACTIVE and (row.activated_at or row.created_at) <= due_before
               for row in rows)


def _published(*, may_rotate: bool = True) -> dict[str, _Published]:
    """kid -> published key, from this app's in-memory cache or freshly from the database."""
    cached = current_app.extensions.get(_CACHE)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    now = utcnow()
    rows = db.session.scalars(
        select(SigningKey).where(or_(
            SigningKey.state.in_((ACTIVE, NEXT)),
            (SigningKey.state == RETIRED) & (SigningKey.retired_at > _grace_cutoff(now)),
        ))
    ).all()
    if may_rotate and _rotation_due(rows, now):
        # Scheduled rotation without a scheduler: whichever instance refreshes its cache
        # first after the period rotates (rows are locked), the others then see it done.
        rotate_if_due(now=now)
        return _published(may_rotate=False)
    rows = sorted(rows, key=lambda row: (_STATE_ORDER[row.state], row.alg,
                                         -(row.retired_at or now).timestamp()))
    entries = {row.kid: _Published(row.alg, dict(row.public_jwk), import_key(row.public_jwk))
               for row in rows}
    current_app.extensions[_CACHE] = (time.monotonic() + JWKS_CACHE_SECONDS, entries)
    current_app.extensions[_LAST_KNOWN] = entries
    return entries


def invalidate_cache() -> None:
    """Forget this app's key caches (after a change, or when a test moves time)."""
    current_app.extensions.pop(_CACHE, None)
    current_app.extensions.pop(_ACTIVE_CACHE, None)


def jwks() -> dict:
    """The public JWKS: active, next and recently retired keys, each with kid, alg, use."""
    return _as_jwks(_published())


def last_known_jwks() -> dict | None:
    """The JWKS as this process last read it, for when the database cannot be read; None
    before the first read. It is served from memory for another cache period before the
    database is asked again, so an outage costs one slow answer, not one per request.

    Safe to serve: a key is published as next long before it signs, and a retired one
    stays published for days, so a copy a few minutes old verifies every token in use.
    """
    entries = current_app.extensions.get(_LAST_KNOWN)
    if entries is None:
        return None
    current_app.extensions[_CACHE] = (time.monotonic() + JWKS_CACHE_SECONDS, entries)
    return _as_jwks(entries)


def _as_jwks(entries: dict[str, _Published]) -> dict:
    return {"keys": [dict(entry.jwk) for entry in entries.values()]}


def verification_key(kid: object) -> tuple[str, Key] | None:
    """(alg, public key) for a kid still published, or None.

    The algorithm is pinned to the key: verify with exactly this alg, never the token's.
    """
    if not isinstance(kid, str) or not kid or len(kid) > 64:
        return None
    entry = _published().get(kid)
    if entry is not None:
        return entry.alg, entry.key
    # Possibly created on another instance since the cache was filled.
    row = db.session.get(SigningKey, kid)
    if row is None or not _is_published(row, utcnow()):
        return None
    invalidate_cache()
    return row.alg, import_key(row.public_jwk)


def list_keys() -> list[SigningKey]:
    """Every stored key, for operators."""
    rows = db.session.scalars(select(SigningKey)).all()
    return sorted(rows, key=lambda row: (row.alg, _STATE_ORDER[row.state], row.created_at))


# --- rotation ------------------------------------------------------------------------------

def _rotate_one(alg: str, now: datetime) -> SigningKey | None:
    """next -> active, active -> retired, a fresh next. Returns the new active key.

    Rows are locked (PostgreSQL) and each step is flushed before the next, so the partial
    unique indexes never see two active or two next keys, even for a moment.
    """
    active = _slot(alg, ACTIVE, lock=True)
    upcoming = _slot(alg, NEXT, lock=True)
    if upcoming is None:
        return None  # another instance rotated this algorithm a moment ago
    if active is not None:
        active.state = RETIRED
        active.retired_at = now
        db.session.flush()
    upcoming.state = ACTIVE
    upcoming.activated_at = now
    db.session.flush()
    _insert_if_vacant(alg, NEXT, now)
    return upcoming


def rotate(alg: str | None = None, *, now: datetime | None = None) -> list[SigningKey]:
    """Rotate one algorithm, or all of them when alg is None; returns the new active keys."""
    algs = ALGORITHMS if alg is None else (_check_alg(alg),)
    now = now or utcnow()
    ensure_keys()
    activated = [row for row in (_rotate_one(name, now) for name in algs) if row is not None]
    invalidate_cache()
    return activated


def rotate_if_due(*, now: datetime | None = None) -> dict:
    """Rotate algorithms whose active key is older than KEY_ROTATION_DAYS; delete retired
    keys past their grace period. Returns {"rotated": [alg...], "dropped": [kid...]}."""
    now = now or utcnow()
    ensure_keys()
    due_before = now - timedelta(days=setting("KEY_ROTATION_DAYS"))
    rotated = []
    for alg in ALGORITHMS:
        active = _slot(alg, ACTIVE, lock=True)
        if active is not None and (active.activated_at or active.created_at) <= due_before:
            if _rotate_one(alg, now) is not None:
                rotated.append(alg)
    expired = select(SigningKey.kid).where(SigningKey.state == RETIRED,
                                           SigningKey.retired_at <= _grace_cutoff(now))
    dropped = list(db.session.scalars(expired))
    if dropped:
        db.session.execute(delete(SigningKey).where(SigningKey.kid.in_(dropped)))
        for kid in dropped:
            _private_keys.pop(kid, None)
    invalidate_cache()
    return {"rotated": rotated, "dropped": dropped}
