"""OAuth clients: strict redirect URIs, exact matching, hashed secrets, Authlib's mixin."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
from joserfc.jwk import generate_key
from sqlalchemy import select

from app.core import clients, keys, tokens
from app.core.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import OAuthClient, RefreshToken


@pytest.mark.parametrize("uri", [
    "https://rp.example.com/callback",
    "https://rp.example.com:8443/cb?tenant=a",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:8080/callback",
    "http://[::1]:9000/cb",
    "http://localhost:3000/cb",
    "com.example.app:/oauth2redirect",
    "com.example.app:/callback",
    "io.github.someone.app://callback",
])
def test_acceptable_redirect_uris(app, uri):
    with app.app_context():
        assert clients.validate_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri, reason", [
    ("https://rp.example.com/cb#frag", "fragment"),
    ("https://rp.example.com/cb#", "fragment"),
    ("javascript:alert(1)", "javascript"),
    ("JavaScript:alert(1)", "javascript"),
    ("data:text/html,<script>alert(1)</script>", "data"),
    ("file:///etc/passwd", "file"),
    ("vbscript:msgbox", "vbscript"),
    ("http://rp.example.com/cb", "https"),
    ("http://127.0.0.1.evil.example/cb", "https"),
    ("http://localhost.evil.example/cb", "https"),
    ("https://user:pass@rp.example.com/cb", "user information"),
    ("https://rp.example.com@evil.example/cb", "user information"),
    ("http://user@127.0.0.1/cb", "user information"),
    ("/callback", "absolute"),
    ("rp.example.com/callback", "absolute"),
    ("//rp.example.com/cb", "absolute"),
    ("myapp:/callback", "private-use"),
    ("ftp://rp.example.com/cb", "ftp"),
    ("https:///cb", "host"),
    ("https://rp.example.com/c b", "whitespace"),
    ("", "required"),
    ("https://rp.example.com/" + "a" * 2100, "longer"),
])
def test_dangerous_redirect_uris_are_refused(app, uri, reason):
    with app.app_context(), pytest.raises(InvalidInput) as caught:
        clients.validate_redirect_uri(uri)
    assert caught.value.field == "redirect_uri"
    assert reason in caught.value.message


def make(app, **kwargs):
    options = {"name": "Demo", "redirect_uris": ["https://rp.example.com/cb",
                                                 "http://127.0.0.1:7000/native"]} | kwargs
    with app.app_context():
        client, secret = clients.create_client(**options)
        db.session.commit()
        return client.client_id, secret


def load(app, client_id) -> OAuthClient:
    return db.session.get(OAuthClient, client_id)


def test_a_confidential_client_gets_a_256_bit_secret_stored_as_an_hmac(app):
    client_id, secret = make(app)
    assert len(secret) >= 43
    with app.app_context():
        client = load(app, client_id)
        assert client.secret_digest != secret
        assert client.secret_digest != hashlib.sha256(secret.encode()).hexdigest()
        key = keys.derived_secret("client-secret-digest:v1")
        assert client.secret_digest == hmac.new(key, secret.encode(),
                                                hashlib.sha256).hexdigest()
        assert clients.verify_secret(client, secret)
        assert not clients.verify_secret(client, secret + "x")
        assert not clients.verify_secret(client, "")
        assert not clients.verify_secret(client, None)
        assert client.token_endpoint_auth_method == "client_secret_basic"
        assert not client.is_public
        data = client.to_dict()
    assert "secret_digest" not in data and secret not in str(data)
    assert data["client_id"] == client_id and data["response_types"] == ["code"]


def test_a_public_client_has_no_secret_and_authenticates_with_none(app):
    client_id, secret = make(app, public=True)
    assert secret is None
    with app.app_context():
        client = load(app, client_id)
        assert client.is_public
        assert client.secret_digest is None
        assert not clients.verify_secret(client, "anything")
        assert client.check_endpoint_auth_method("none", "token")
        assert client.check_endpoint_auth_method("none", "revocation")
        assert not client.check_endpoint_auth_method("client_secret_basic", "token")


def test_endpoint_auth_method_is_only_the_clients_own(app):
    client_id, _ = make(app, auth_method="client_secret_post")
    with app.app_context():
        client = load(app, client_id)
        for endpoint in ("token", "introspection", "revocation"):
            assert client.check_endpoint_auth_method("client_secret_post", endpoint)
            assert not client.check_endpoint_auth_method("client_secret_basic", endpoint)
            assert not client.check_endpoint_auth_method("none", endpoint)


def test_redirect_uri_matching_is_exact(app):
    client_id, _ = make(app)
    with app.app_context():
        client = load(app, client_id)
        assert client.check_redirect_uri("https://rp.example.com/cb")
        for near_miss in ("https://rp.example.com/cb/", "https://RP.example.com/cb",
                          "https://rp.example.com/CB", "https://rp.example.com/cb?x=1",
                          "https://rp.example.com:443/cb", "https://rp.example.com:8443/cb",
                          "https://user@rp.example.com/cb", "https://rp.example.com/cb#f",
                          "http://rp.example.com/cb", "https://rp.example.com/c",
                          "", None):
            assert not client.check_redirect_uri(near_miss), near_miss


def test_loopback_redirect_uris_may_use_any_port(app):
    client_id, _ = make(app, redirect_uris=["http://127.0.0.1:7000/native",
                                            "http://[::1]/cb", "http://localhost/cb"])
    with app.app_context():
        client = load(app, client_id)
        for uri in ("http://127.0.0.1:7000/native", "http://127.0.0.1:51234/native",
                    "http://127.0.0.1/native", "http://[::1]:4000/cb",
                    "http://localhost:8080/cb"):
            assert client.check_redirect_uri(uri), uri
        for uri in ("http://127.0.0.1:51234/other", "http://127.0.0.1:51234/native?x=1",
                    "http://user@127.0.0.1:51234/native", "http://127.0.0.1:99999/native",
                    "http://127.0.0.1:1x/native", "http://127.0.0.2:7000/native",
                    "http://LOCALHOST:80/cb", "http://[::1]:4000/cb#x",
                    "https://127.0.0.1:7000/native", "http://localhost:80/cb/"):
            assert not client.check_redirect_uri(uri), uri


def test_allowed_scope_is_the_intersection(app):
    client_id, _ = make(app, scope="openid profile email")
    with app.app_context():
        client = load(app, client_id)
        assert client.get_allowed_scope("email openid admin") == "email openid"
        assert client.get_allowed_scope("admin") == ""
        assert client.get_allowed_scope("") == ""
        assert client.get_allowed_scope(None) == ""


def test_grant_and_response_types(app):
    client_id, _ = make(app, grant_types=["authorization_code"])
    with app.app_context():
        client = load(app, client_id)
        assert client.check_grant_type("authorization_code")
        assert not client.check_grant_type("refresh_token")
        assert not client.check_grant_type("password")
        assert client.check_response_type("code")
        assert not client.check_response_type("token")
        assert client.get_default_redirect_uri() == "https://rp.example.com/cb"
        assert client.id_token_signed_response_alg == "RS256"
        assert client.client_metadata["redirect_uris"][0] == "https://rp.example.com/cb"


def test_rotating_the_secret_retires_the_old_one(app):
    client_id, old = make(app)
    with app.app_context():
        new = clients.rotate_secret(client_id)
        db.session.commit()
        client = load(app, client_id)
        assert clients.verify_secret(client, new)
        assert not clients.verify_secret(client, old)
        with pytest.raises(NotFound):
            clients.rotate_secret("missing")


def test_a_public_client_has_no_secret_to_rotate(app):
    client_id, _ = make(app, public=True)
    with app.app_context(), pytest.raises(InvalidInput):
        clients.rotate_secret(client_id)


def test_deleting_a_client_deletes_its_refresh_tokens(app, make_user):
    user = make_user()
    client_id, _ = make(app)
    with app.app_context():
        tokens.issue_refresh_token(user_id=uuid.UUID(user["id"]), client_id=client_id,
                                   scope="openid", session_id=None)
        db.session.commit()
        clients.delete_client(client_id)
        db.session.commit()
        assert clients.get_client(client_id) is None
        assert db.session.scalars(select(RefreshToken)).all() == []
        with pytest.raises(NotFound):
            clients.delete_client(client_id)


def test_list_and_get(app):
    first, _ = make(app, name="One")
    second, _ = make(app, name="Two")
    with app.app_context():
        assert {c.client_id for c in clients.list_clients()} == {first, second}
        assert clients.get_client(first).name == "One"
        assert clients.get_client("nope") is None
        assert clients.get_client(None) is None


@pytest.mark.parametrize("kwargs, field", [
    ({"name": ""}, "name"),
    ({"redirect_uris": []}, "redirect_uri"),
    ({"post_logout_redirect_uris": ["javascript:x"]}, "post_logout_redirect_uri"),
    ({"grant_types": ["password"]}, "grant_type"),
    ({"auth_method": "magic"}, "auth_method"),
    ({"public": True, "auth_method": "client_secret_basic"}, "auth_method"),
    ({"public": True, "grant_types": ["client_credentials"]}, "grant_type"),
    ({"auth_method": "private_key_jwt"}, "jwks"),
    ({"scope": "openid \"quoted\""}, "scope"),
    ({"id_token_alg": "HS256"}, "id_token_alg"),
])
def test_bad_registrations_are_refused_naming_the_field(app, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        make(app, **kwargs)
    assert caught.value.field == field


def test_private_key_jwt_clients_register_public_keys_only(app):
    key = generate_key("EC", "P-256")
    client_id, secret = make(app, auth_method="private_key_jwt",
                             jwks={"keys": [key.as_dict(private=False)]})
    assert secret is None
    with app.app_context():
        assert load(app, client_id).jwks["keys"][0]["kty"] == "EC"
    with pytest.raises(InvalidInput, match="public keys only"):
        make(app, auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=True)]})


def test_client_credentials_clients_need_no_redirect_uri(app):
    client_id, secret = make(app, redirect_uris=[], grant_types=["client_credentials"])
    assert secret
    with app.app_context():
        assert load(app, client_id).response_types == []


def test_a_client_id_never_starts_with_a_dash_so_commands_can_take_it():
    from app.core.clients import new_client_id

    ids = {new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(client_id.startswith("-") for client_id in ids)
