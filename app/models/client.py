"""OAuth clients (relying parties), implementing Authlib's ClientMixin on Tessera's own model.

Client secrets are 256-bit random values, so a keyed HMAC-SHA256 is the right digest: no
password-style slow hash is needed (nothing to brute-force), and checking one costs a
microsecond instead of the bcrypt toll that caps some servers' client-credentials rate.
"""

from __future__ import annotations

import re
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import JSON, Boolean, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none", "private_key_jwt",
                "client_secret_jwt")


def is_loopback_http(uri: str) -> bool:
    """An http URI on a loopback host: a native app's redirect listener (RFC 8252 §7.3)."""
    return uri.startswith("http://") and _split_loopback(uri) is not None


class OAuthClient(db.Model, ClientMixin):
    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # HMAC-SHA256 (hex) of the secret under a key derived from SECRET_KEY; None for public
    # clients and private_key_jwt clients, which have no secret.
    secret_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # client_secret_jwt only: the secret is the HMAC key of the client's assertions, so the
    # server needs it back. AES-GCM (nonce + ciphertext) under a key derived from SECRET_KEY.
    secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    response_types: Mapped[list] = mapped_column(JSON, default=lambda: ["code"])
    scope: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16))
    # First-party apps skip the consent page; never set it for third parties.
    skip_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"  # noqa: S105 - a method name

    # --- Authlib's ClientMixin ---------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this client may have, in the order asked, space-joined."""
        if not scope:
            return ""
        allowed = set(self.scope.split())
        granted = []
        for item in scope.split():
            if item in allowed and item not in granted:
                granted.append(item)
        return " ".join(granted)

    def check_redirect_uri(self, redirect_uri: str | None) -> bool:
        """Exact string match; only a loopback http URI's port may differ (RFC 8252 §7.3)."""
        if not isinstance(redirect_uri, str) or not redirect_uri:
            return False
        return any(_redirect_matches(registered, redirect_uri)
                   for registered in self.redirect_uris)

    def check_post_logout_redirect_uri(self, uri: str | None) -> bool:
        """The same exact-match rule, against the registered post-logout URIs."""
        if not isinstance(uri, str) or not uri:
            return False
        return any(_redirect_matches(registered, uri)
                   for registered in self.post_logout_redirect_uris)

    def check_client_secret(self, client_secret: str | None) -> bool:
        """Never answered here: the secret digest is keyed by the app's secret, a core rule.
        The authorization server checks secrets through core (app/oidc/client_secret.py)."""
        raise NotImplementedError("client secrets are checked by app.core.clients")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Every endpoint (token, introspection, revocation) accepts only the client's own
        registered method; a public client's is "none"."""
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.response_types or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.grant_types or [])

    @property
    def client_metadata(self) -> dict:
        """Registered metadata in RFC 7591 names, which parts of Authlib read directly."""
        return {
            "client_name": self.name,
            "redirect_uris": list(self.redirect_uris or []),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris or []),
            "grant_types": list(self.grant_types or []),
            "response_types": list(self.response_types or []),
            "scope": self.scope,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "id_token_signed_response_alg": self.id_token_signed_response_alg,
            **({"jwks": self.jwks} if self.jwks else {}),
        }

    def to_dict(self) -> dict:
        """The public view of a client; the secret digest never leaves the database."""
        return {
            "client_id": self.client_id,
            **self.client_metadata,
            "public": self.is_public,
            "skip_consent": self.skip_consent,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


_LOOPBACK_NETLOC = re.compile(r"(?P<host>127\.0\.0\.1|\[::1\]|localhost)(?::(?P<port>\d{1,5}))?")


def _redirect_matches(registered: str, requested: str) -> bool:
    if requested == registered:
        return True
    if not registered.startswith("http://") or not requested.startswith("http://"):
        return False
    reg, req = _split_loopback(registered), _split_loopback(requested)
    return reg is not None and req is not None and reg == req


def _split_loopback(uri: str) -> tuple[str, str] | None:
    """(host, rest-of-URI) of an http loopback URI with the port dropped; None otherwise.

    Raw string surgery, not urlsplit's normalised view: case, userinfo, path and query
    must match byte for byte, and only a well-formed port may vary.
    """
    rest = uri[len("http://"):]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
              default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    match = _LOOPBACK_NETLOC.fullmatch(netloc)
    if match is None:
        return None
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    return match.group("host"), tail
