"""private_key_jwt and client_secret_jwt at the token endpoint (RFC 7523, OIDC Core §9)."""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.support.flow import make_client


@pytest.fixture
def rsa_key():
    return RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "use": "sig"})


def assertion(client_id, key, *, alg="RS256", aud=None, exp_in=60, jti=None, **overrides):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in,
              "jti": jti or secrets.token_hex(8)}
    claims.update(overrides)
    header = {"alg": alg, "kid": key.kid} if key.kid else {"alg": alg}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def b64json(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(client_id, aud):
    return {"iss": client_id, "sub": client_id, "aud": aud, "exp": int(time.time()) + 60,
            "jti": secrets.token_hex(8)}


def forge_hs256(key_bytes: bytes, claims: dict) -> str:
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'rp-key-1'})}.{b64json(claims)}"
    mac = hmac.new(key_bytes, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_request(client, client_id, signed):
    return client.post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed})


@pytest.fixture
def pkjwt_client(app, rsa_key):
    return make_client(app, name="Service", grant_types=("client_credentials",),
                       redirect_uris=[], auth_method="private_key_jwt",
                       jwks={"keys": [rsa_key.as_dict(private=False)]})


def test_private_key_jwt_authenticates_with_the_registered_key(app, client, pkjwt_client,
                                                                rsa_key):
    signed = assertion(pkjwt_client["client_id"], rsa_key,
                       aud=app.config["ISSUER"] + "/oauth2/token")
    response = token_request(client, pkjwt_client["client_id"], signed)
    assert response.status_code == 200, response.get_json()
    assert pkjwt_client["client_secret"] is None


def test_an_assertion_is_accepted_only_once(app, client, pkjwt_client, rsa_key):
    signed = assertion(pkjwt_client["client_id"], rsa_key, aud=app.config["ISSUER"])
    assert token_request(client, pkjwt_client["client_id"], signed).status_code == 200
    again = token_request(client, pkjwt_client["client_id"], signed)
    # RFC 6749 §5.2: 401 is required only when the Authorization header was used.
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("case", ["other key", "wrong audience", "expired", "too long-lived",
                                  "iss differs", "hs256 with public key", "alg none"])
def test_bad_assertions_are_invalid_client(app, client, pkjwt_client, rsa_key, case):
    client_id, aud = pkjwt_client["client_id"], app.config["ISSUER"]
    match case:
        case "other key":
            signed = assertion(client_id, RSAKey.generate_key(2048,
                                                              parameters={"kid": "rp-key-1"}),
                               aud=aud)
        case "wrong audience":
            signed = assertion(client_id, rsa_key, aud="https://elsewhere.example")
        case "expired":
            signed = assertion(client_id, rsa_key, aud=aud, exp_in=-120)
        case "too long-lived":
            signed = assertion(client_id, rsa_key, aud=aud, exp_in=3600)
        case "iss differs":
            signed = assertion(client_id, rsa_key, aud=aud, iss="someone-else")
        case "hs256 with public key":
            # The classic confusion: an HMAC keyed with the client's own public key.
            signed = forge_hs256(rsa_key.as_pem(private=False), claims_for(client_id, aud))
        case "alg none":
            header_and_claims = f"{b64json({'alg': 'none'})}.{b64json(claims_for(client_id, aud))}"
            signed = header_and_claims + "."
    response = token_request(client, client_id, signed)
    assert response.status_code == 400, (case, response.get_json())
    assert response.get_json()["error"] == "invalid_client"



@pytest.mark.parametrize("segment", ["header", "claims"])
def test_an_assertion_nested_too_deeply_to_parse_is_invalid_client(app, client, pkjwt_client,
                                                                   rsa_key, segment):
    client_id = pkjwt_client["client_id"]
    deep = base64.urlsafe_b64encode(b"[" * 1500).rstrip(b"=").decode()
    header, claims, signature = assertion(client_id, rsa_key, aud=app.config["ISSUER"]).split(".")
    signed = (f"{deep}.{claims}.{signature}" if segment == "header"
              else f"{header}.{deep}.{signature}")
    response = token_request(client, client_id, signed)
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_client",
                                   "error_description": "The client assertion is malformed."}

def test_private_key_jwt_client_cannot_use_a_secret(app, client, pkjwt_client):
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(pkjwt_client["client_id"], "anything"))
    assert response.status_code == 401


def test_client_secret_jwt_authenticates_with_an_hmac_of_the_secret(app, client, query):
    rp = make_client(app, name="HMAC", grant_types=("client_credentials",), redirect_uris=[],
                     auth_method="client_secret_jwt")
    key = OctKey.import_key(rp["client_secret"])
    signed = assertion(rp["client_id"], key, alg="HS256", aud=app.config["ISSUER"])
    response = token_request(client, rp["client_id"], signed)
    assert response.status_code == 200, response.get_json()
    from sqlalchemy import select

    from app.models import OAuthClient

    stored = query(lambda s: s.scalar(select(OAuthClient)))
    assert rp["client_secret"].encode() not in stored.secret_ciphertext
    wrong = assertion(rp["client_id"], OctKey.import_key("x" * 43), alg="HS256",
                      aud=app.config["ISSUER"])
    assert token_request(client, rp["client_id"], wrong).get_json()["error"] == "invalid_client"
    es_key = ECKey.generate_key("P-256")
    asym = assertion(rp["client_id"], es_key, alg="ES256", aud=app.config["ISSUER"])
    assert token_request(client, rp["client_id"], asym).get_json()["error"] == "invalid_client"


def test_a_private_key_jwt_client_introspects_and_revokes_with_assertions(app, client,
                                                                           pkjwt_client,
                                                                           rsa_key):
    client_id = pkjwt_client["client_id"]
    aud = app.config["ISSUER"]
    token = token_request(client, client_id, assertion(client_id, rsa_key, aud=aud)) \
        .get_json()["access_token"]

    def call(path):
        return client.post(path, data={
            "token": token, "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(client_id, rsa_key, aud=aud)})

    assert call("/oauth2/introspect").get_json()["active"] is True
    assert call("/oauth2/revoke").status_code == 200
    assert call("/oauth2/introspect").get_json() == {"active": False}
