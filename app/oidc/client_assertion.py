"""private_key_jwt and client_secret_jwt client authentication (RFC 7523 §2.2, OIDC Core §9).

Nothing in the assertion's header is trusted: the client is found by the claimed client id,
its key comes from its own registration, and the algorithm must be one that key type is
registered for (asymmetric for private_key_jwt, HS256 for client_secret_jwt). Each jti is
accepted once; assertions must be short-lived and addressed to this server.
"""

from __future__ import annotations

import time

from authlib.oauth2.rfc6749.errors import InvalidClientError
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from app.core import clients, json_input, replay, signed_jwt
from app.core.errors import InvalidToken
from app.core.services import setting

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASYMMETRIC_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
MAX_LIFETIME = 300  # seconds an assertion may be valid for
LEEWAY = 30


class ClientAssertion:
    """An Authlib client authentication method: called with (query_client, request)."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __call__(self, query_client, request):
        form = request.form
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return None
        assertion = form.get("client_assertion")
        try:
            header = signed_jwt.untrusted_header(assertion or "", what="client assertion")
            unverified = json_input.loads(signed_jwt.b64decode(assertion.split(".")[1]))
        except (InvalidToken, ValueError, UnicodeDecodeError):
            raise InvalidClientError(description="The client assertion is malformed.") from None
        client_id = unverified.get("sub") if isinstance(unverified, dict) else None
        if not isinstance(client_id, str) or (form.get("client_id") not in (None, client_id)):
            raise InvalidClientError(description="The client assertion names no client.")
        client = query_client(client_id)
        if client is None or client.token_endpoint_auth_method != self.method:
            return None  # not ours to judge: another method may apply
        if len(assertion) > signed_jwt.MAX_TOKEN_BYTES or "crit" in header:
            raise InvalidClientError(description="The client assertion is not acceptable.")
        claims = self._verify(client, header, assertion)
        self._check_claims(client_id, claims)
        return client

    def _verify(self, client, header: dict, assertion: str) -> dict:
        alg = header.get("alg")
        if self.method == "private_key_jwt":
            if alg not in ASYMMETRIC_ALGS:
                raise InvalidClientError(description="Unsupported assertion algorithm.")
            key = KeySet.import_key_set(client.jwks or {"keys": []})
        else:
            if alg != "HS256":
                raise InvalidClientError(description="client_secret_jwt assertions use HS256.")
            secret = clients.plain_secret(client)
            if secret is None:
                raise InvalidClientError(description="The client has no secret.")
            key = OctKey.import_key(secret)
        try:
            verified = jws.deserialize_compact(assertion, key, algorithms=[alg])
            claims = json_input.loads(verified.payload)
        except (JoseError, ValueError, TypeError):
            raise InvalidClientError(description="The client assertion signature is invalid.") \
                from None
        if not isinstance(claims, dict):
            raise InvalidClientError(description="The client assertion is malformed.")
        return claims

    def _check_claims(self, client_id: str, claims: dict) -> None:
        issuer = setting("ISSUER")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise InvalidClientError(description="iss and sub must be the client_id.")
        if not {issuer, f"{issuer}/oauth2/token"} & set(audiences):
            raise InvalidClientError(description="The client assertion is not addressed here.")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + LEEWAY < now or exp > now + MAX_LIFETIME:
            raise InvalidClientError(
                description="The client assertion is expired or too long-lived.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise InvalidClientError(description="The client assertion has no jti.")
        if not replay.first_use("client-assertion", f"{client_id}:{jti}", MAX_LIFETIME + LEEWAY):
            raise InvalidClientError(description="The client assertion was already used.")
