"""ID tokens: minting them at the token endpoint, and reading them back as hints."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from app.core import signed_jwt
from app.core.errors import InvalidToken
from app.core.services import setting
from app.models import OAuthClient, User
from app.oidc.claims import user_claims

ID_TOKEN_TTL = 3600


def left_hash(value: str, alg: str) -> str:
    """at_hash / c_hash: the left half of the hash of the value (OIDC Core §3.1.3.6)."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def issue_id_token(*, client: OAuthClient, user: User, scope: str, session_id,
                   auth_time: int | None, amr: list[str] | None, acr: str | None,
                   nonce: str | None = None, access_token: str | None = None,
                   code: str | None = None, requested_claims: dict | None = None) -> str:
    alg = client.id_token_signed_response_alg or setting("ID_TOKEN_ALG")
    now = int(time.time())
    # Claims individually requested for the ID token ride along; scope-released profile
    # claims are served at userinfo, as the code flow intends.
    claims = user_claims(user, [], requested_claims)
    claims.update({
        "iss": setting("ISSUER"),
        "aud": client.client_id,
        "azp": client.client_id,
        "exp": now + ID_TOKEN_TTL,
        "iat": now,
        "jti": secrets.token_urlsafe(12),
    })
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if session_id is not None:
        claims["sid"] = str(session_id)
    if nonce:
        claims["nonce"] = nonce
    if acr:
        claims["acr"] = acr
    if amr:
        claims["amr"] = list(amr)
    if access_token:
        claims["at_hash"] = left_hash(access_token, alg)
    if code:
        claims["c_hash"] = left_hash(code, alg)
    return signed_jwt.sign(claims, alg=alg, typ="JWT")


def read_id_token_hint(token: object) -> dict:
    """The claims of an ID token we issued, expired or not (a hint, not a credential).

    Raises InvalidToken unless our key signed it with that key's own algorithm and we are
    its issuer; an access token presented as an ID token is refused too.
    """
    header, claims = signed_jwt.verify(token, what="id_token_hint")
    if str(header.get("typ", "JWT")).lower() not in ("jwt",):
        raise InvalidToken("The id_token_hint is not an ID token.")
    if claims.get("iss") != setting("ISSUER") or not isinstance(claims.get("sub"), str):
        raise InvalidToken("The id_token_hint was not issued here.")
    if not claims.get("aud"):
        raise InvalidToken("The id_token_hint has no audience.")
    return claims
