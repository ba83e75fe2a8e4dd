"""Registering and managing OAuth clients, and checking their secrets.

Redirect URIs are the one thing standing between an authorization code and an attacker, so
they are validated strictly at registration and matched exactly at use (see
OAuthClient.check_redirect_uri).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select

from app.core.errors import InvalidInput, NotFound
from app.core.keys import ALGORITHMS, derived_secret
from app.core.sealing import seal, unseal
from app.core.services import setting
from app.extensions import db
from app.models import OAuthClient, RefreshToken
from app.models.client import AUTH_METHODS, is_loopback_http

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials",
               "urn:ietf:params:oauth:grant-type:device_code")
SECRET_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
MAX_URI_LENGTH = 2000
# Schemes a browser or OS treats as code or local content: never a redirect target.
_DANGEROUS_SCHEMES = {"javascript", "data", "file", "vbscript", "blob", "about", "filesystem",
                      "view-source", "chrome", "ftp", "ws", "wss", "mailto", "tel"}
# RFC 8252 §7.1 private-use schemes are reverse domain names: com.example.app
_PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token


def _secret_digest(secret: str) -> str:
    key = derived_secret("client-secret-digest:v1")
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


_SECRET_ENCRYPTION = "client-secret-encryption:v1"


def _keep_secret_for_assertions(client: OAuthClient, secret: str | None) -> None:
    """client_secret_jwt verifies HMAC assertions, so only its secret is kept (encrypted)."""
    if client.token_endpoint_auth_method != "client_secret_jwt" or secret is None:  # noqa: S105
        client.secret_ciphertext = None
        return
    client.secret_ciphertext = seal(_SECRET_ENCRYPTION, secret.encode(),
                                    aad=client.client_id.encode())


def plain_secret(client: OAuthClient) -> str | None:
    """The secret of a client_secret_jwt client (its assertion key); None for any other."""
    if not client.secret_ciphertext:
        return None
    return unseal(_SECRET_ENCRYPTION, client.secret_ciphertext,
                  aad=client.client_id.encode()).decode()


def verify_secret(client: OAuthClient, secret: object) -> bool:
    """Constant-time check of a presented client secret; clients without one never pass."""
    if not client.secret_digest or not isinstance(secret, str) or not secret:
        return False
    if len(secret) > 512:
        return False
    return hmac.compare_digest(_secret_digest(secret), client.secret_digest)


def validate_redirect_uri(uri: object, *, field: str = "redirect_uri") -> str:
    """Refuse a redirect URI that could leak a code; returns it unchanged when acceptable.

    Accepted: https URLs with a host; http only on loopback hosts (native apps, RFC 8252
    §7.3); private-use reverse-DNS schemes (com.example.app:/callback, RFC 8252 §7.1).
    Refused: relative URIs, fragments, userinfo, javascript:/data:/file: and any other scheme.
    """
    def refuse(reason: str):
        return InvalidInput(f"Redirect URI {reason}.", field=field)

    if not isinstance(uri, str) or not uri:
        raise refuse("is required")
    if len(uri) > MAX_URI_LENGTH:
        raise refuse(f"is longer than {MAX_URI_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7f for ch in uri):
        raise refuse("contains whitespace or control characters")
    if "#" in uri:
        raise refuse("must not contain a fragment")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise refuse("is not a valid URI") from None
    scheme = parts.scheme.lower()
    if not scheme or not uri[: len(scheme) + 1].lower() == scheme + ":":
        raise refuse("must be absolute")
    if "@" in parts.netloc:
        raise refuse("must not contain user information")
    if scheme in _DANGEROUS_SCHEMES:
        raise refuse(f"must not use the {scheme}: scheme")
    if scheme == "https":
        if not parts.hostname or "*" in parts.netloc:
            raise refuse("must name a host")
        _check_port(parts, refuse)
        return uri
    if scheme == "http":
        if not is_loopback_http(uri):
            raise refuse("must use https (plain http is only allowed on 127.0.0.1, [::1] "
                         "or localhost)")
        return uri
    if _PRIVATE_USE_SCHEME.fullmatch(scheme) and scheme == parts.scheme:
        return uri
    raise refuse("must use https, loopback http, or a private-use scheme such as "
                 "com.example.app:/callback")


def _check_port(parts, refuse) -> None:
    try:
        parts.port  # noqa: B018 - urlsplit validates the port only when asked
    except ValueError:
        raise refuse("has an invalid port") from None


def _validate_scope(scope: object) -> str:
    if not isinstance(scope, str):
        raise InvalidInput("Scope must be a space-separated string.", field="scope")
    items = scope.split()
    if any(not _SCOPE_TOKEN.fullmatch(item) for item in items):
        raise InvalidInput("Scope contains invalid characters.", field="scope")
    return " ".join(dict.fromkeys(items))


def _validate_list(values: Iterable[str], allowed: Iterable[str], field: str) -> list[str]:
    allowed = tuple(allowed)
    result = list(dict.fromkeys(values))
    for value in result:
        if value not in allowed:
            raise InvalidInput(f"Unsupported value {value!r}; expected one of "
                               + ", ".join(allowed) + ".", field=field)
    return result


def _validate_jwks(jwks: object) -> dict:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidInput("jwks must be a JWK Set with at least one key.", field="jwks")
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidInput("jwks is not a valid JWK Set.", field="jwks") from None
    if any(key.is_private for key in key_set):
        raise InvalidInput("jwks must hold public keys only.", field="jwks")
    return jwks


def new_client_id() -> str:
    """144 random bits, URL-safe. Never starting with "-": an id is typed after commands
    (`tessera clients show ID`), where a leading dash reads as an option."""
    while True:
        client_id = secrets.token_urlsafe(18)
        if not client_id.startswith("-"):
            return client_id


def create_client(name: str, redirect_uris: Iterable[str],
                  post_logout_redirect_uris: Iterable[str] = (),
                  grant_types: Iterable[str] = ("authorization_code", "refresh_token"),
                  scope: str = "openid profile email offline_access", public: bool = False,
                  auth_method: str | None = None, skip_consent: bool = False,
                  id_token_alg: str | None = None,
                  jwks: dict | None = None) -> tuple[OAuthClient, str | None]:
    """Register a client; returns it and its plain secret (None when it has no secret).

    The secret is shown once: only its HMAC digest is stored.
    """
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise InvalidInput("Client name is required (at most 200 characters).", field="name")
    redirect_uris = [validate_redirect_uri(uri) for uri in dict.fromkeys(redirect_uris)]
    post_logout = [validate_redirect_uri(uri, field="post_logout_redirect_uri")
                   for uri in dict.fromkeys(post_logout_redirect_uris)]
    grants = _validate_list(grant_types, GRANT_TYPES, "grant_type")
    if not grants:
        raise InvalidInput("At least one grant type is required.", field="grant_type")
    if "authorization_code" in grants and not redirect_uris:
        raise InvalidInput("The authorization_code grant needs a redirect URI.",
                           field="redirect_uri")
    method = auth_method or ("none" if public else "client_secret_basic")
    _validate_list([method], AUTH_METHODS, "auth_method")
    if public and method != "none":
        raise InvalidInput("A public client authenticates with 'none'.", field="auth_method")
    if method == "none" and "client_credentials" in grants:
        raise InvalidInput("A public client cannot use client_credentials.",
                           field="grant_type")
    if method == "private_key_jwt":
        jwks = _validate_jwks(jwks)
    elif jwks is not None:
        raise InvalidInput("jwks is only used with private_key_jwt.", field="jwks")
    alg = id_token_alg or setting("ID_TOKEN_ALG")
    _validate_list([alg], ALGORITHMS, "id_token_alg")

    secret = secrets.token_urlsafe(32) if method in SECRET_METHODS else None
    client = OAuthClient(
        client_id=new_client_id(),
        secret_digest=_secret_digest(secret) if secret else None,
        name=name.strip(),
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        grant_types=grants,
        response_types=["code"] if "authorization_code" in grants else [],
        scope=_validate_scope(scope),
        token_endpoint_auth_method=method,
        jwks=jwks,
        id_token_signed_response_alg=alg,
        skip_consent=bool(skip_consent),
    )
    _keep_secret_for_assertions(client, secret)
    db.session.add(client)
    db.session.flush()
    return client, secret


def get_client(client_id: object) -> OAuthClient | None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        return None
    return db.session.get(OAuthClient, client_id)


def application(application_id: object, *, field: str = "application_id") -> OAuthClient:
    """The registered client an application_id names; a 400 naming the field otherwise."""
    if application_id is None or application_id == "":
        raise InvalidInput(f"{field} is required.", field=field)
    client = get_client(application_id)
    if client is None:
        raise InvalidInput(f"{field} does not name a registered application.", field=field)
    return client


def _require(client_id: object) -> OAuthClient:
    client = get_client(client_id)
    if client is None:
        raise NotFound("Client not found.", field="client_id")
    return client


def list_clients() -> list[OAuthClient]:
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at,
                                                                OAuthClient.client_id)))


def delete_client(client_id: str) -> None:
    """Delete a client and its refresh tokens.

    The tokens are deleted explicitly: SQLite enforces ON DELETE CASCADE only with
    PRAGMA foreign_keys, which is off by default.
    """
    client = _require(client_id)
    db.session.execute(delete(RefreshToken).where(RefreshToken.client_id == client.client_id))
    db.session.delete(client)
    db.session.flush()


def rotate_secret(client_id: str) -> str:
    """Replace a confidential client's secret; the old one stops working at once."""
    client = _require(client_id)
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise InvalidInput("This client does not authenticate with a secret.",
                           field="client_id")
    secret = secrets.token_urlsafe(32)
    client.secret_digest = _secret_digest(secret)
    _keep_secret_for_assertions(client, secret)
    return secret
