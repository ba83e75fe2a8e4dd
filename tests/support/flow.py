"""Helpers for driving the OAuth/OIDC flows through the Flask test client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from app.core import clients
from app.extensions import db
from tests.conftest import post_form

REDIRECT_URI = "https://rp.example.com/callback"


def make_client(app, **options) -> dict:
    """Register a client; returns its to_dict() plus the plain secret."""
    settings = {"name": "Example RP", "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": ["https://rp.example.com/bye"],
                "grant_types": ("authorization_code", "refresh_token", "client_credentials")}
    settings.update(options)
    with app.app_context():
        client, secret = clients.create_client(**settings)
        db.session.commit()
        return client.to_dict() | {"client_secret": secret}


def authorize_params(rp: dict, challenge: str, **extra) -> dict:
    params = {"response_type": "code", "client_id": rp["client_id"],
              "redirect_uri": REDIRECT_URI, "scope": "openid profile email",
              "state": "state-123", "nonce": "nonce-456", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def callback_params(location: str) -> dict:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI, location
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def follow_to_code(client, rp: dict, challenge: str, **extra) -> dict:
    """From /oauth2/authorize to the callback, consenting if asked; returns its params."""
    response = client.get("/oauth2/authorize", query_string=authorize_params(rp, challenge,
                                                                              **extra))
    for _ in range(5):
        location = response.headers.get("Location", "")
        if location.startswith(REDIRECT_URI):
            return callback_params(location)
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
        if location.startswith("/consent"):
            response = post_form(client, location, {"allow": "Allow",
                                                     "request": location.split("request=")[1]},
                                 csrf_path=location)
        else:
            response = client.get(location)
    raise AssertionError(f"no callback after five hops: {response.status_code}")


def exchange(client, rp: dict, code: str, verifier: str, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier}
    data.update(extra)
    return client.post("/oauth2/token", data=data,
                       auth=(rp["client_id"], rp["client_secret"]))


def verify_with_jwks(client, token: str, **claims_checks) -> dict:
    """Verify a JWT using only the published JWKS, as a relying party would."""
    key_set = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    decoded = jwt.decode(token, key_set, algorithms=["RS256", "ES256", "EdDSA"])
    return decoded.claims
