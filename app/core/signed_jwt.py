"""Signing and verifying JWTs with Tessera's own keys, trusting nothing in a token's header.

The kid only selects one of our published keys and the algorithm is the one pinned to that
key, so `alg: none`, an HMAC keyed with our public key, or a key embedded in the token
(`jwk`, `jku`, `x5u`, `x5c`) can never verify. Any `crit` header is refused: we understand
no extension (RFC 7515 §4.1.11). Oversized tokens are refused before any parsing work.
"""

from __future__ import annotations

import base64
import binascii
import json

from joserfc import jws
from joserfc.errors import JoseError

from app.core import json_input, keys
from app.core.errors import InvalidToken

MAX_TOKEN_BYTES = 8 * 1024


def sign(claims: dict, *, alg: str, typ: str) -> str:
    kid, key = keys.signing_key(alg)
    header = {"typ": typ, "alg": alg, "kid": kid}
    payload = json.dumps(claims, separators=(",", ":"))
    return jws.serialize_compact(header, payload, key, algorithms=[alg])


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def untrusted_header(token: str, *, what: str = "token") -> dict:
    """The header of a compact JWS, parsed only to find a kid; nothing in it is trusted yet."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken(f"The {what} is malformed.")
    try:
        header = json_input.loads(b64decode(parts[0]))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidToken(f"The {what} is malformed.") from None
    if not isinstance(header, dict):
        raise InvalidToken(f"The {what} is malformed.")
    return header


def verify(token: object, *, what: str = "token") -> tuple[dict, dict]:
    """Check the signature of a JWT we issued; returns (header, claims). Claims unchecked."""
    if not isinstance(token, str) or not token:
        raise InvalidToken(f"The {what} is missing.")
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken(f"The {what} is too large.")
    header = untrusted_header(token, what=what)
    if "crit" in header:
        raise InvalidToken(f"The {what} uses an unsupported critical header.")
    found = keys.verification_key(header.get("kid"))
    if found is None:
        raise InvalidToken(f"The {what} was not signed by a known key.")
    alg, key = found
    if header.get("alg") != alg:
        raise InvalidToken(f"The {what}'s algorithm does not match its key.")
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[alg])
        claims = json_input.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        raise InvalidToken(f"The {what} signature is invalid.") from None
    if not isinstance(claims, dict):
        raise InvalidToken(f"The {what} is malformed.")
    return header, claims
