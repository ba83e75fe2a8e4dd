"""/oauth2/logout (OpenID Connect RP-Initiated Logout 1.0) over HTTP.

A trusted hint ends the session at once; anything else asks first; nothing unvalidated is
ever a redirect target; and forged hints (foreign key, alg none, HMAC keyed with our public
key) are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import generate_key, import_key
from joserfc.jws import JWSRegistry

from app.core import keys
from tests.conftest import login
from tests.support.csrf import csrf_from
from tests.support.oidc_fixtures import (
    RP_LOGGED_OUT,
    access_token,
    id_token,
    latest_session_id,
    make_client,
    make_grant,
    session_ended,
)

LOGOUT = "/oauth2/logout"
USERINFO = "/oauth2/userinfo"


@pytest.fixture
def person(make_user):
    return make_user()


@pytest.fixture
def signed_in(app, client, person):
    """The test client signed in as person; returns the grant of that browser session."""
    login(client, person["email"])
    return make_grant(app, person, session_id=latest_session_id(app, person["id"]))


def assert_error_page(response, text: str | None = None):
    assert response.status_code == 400
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert "<html" in html
    if text:
        assert text in html


def assert_redirect_home(response, state: str | None = "xyz"):
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.split("?")[0] == RP_LOGGED_OUT
    query = parse_qs(urlsplit(location).query)
    assert query.get("state") == ([state] if state else None)


def still_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --- trusted requests end the session at once ----------------------------------------------

def test_a_hint_for_this_session_ends_it_and_redirects_with_state(app, client, signed_in):
    hint = id_token(app, signed_in)
    token, _ = access_token(app, signed_in)
    response = client.get(LOGOUT, query_string={
        "id_token_hint": hint, "post_logout_redirect_uri": RP_LOGGED_OUT, "state": "xyz"})
    assert_redirect_home(response)
    assert session_ended(app, signed_in.session_id)
    assert client.get_cookie("tessera_session") is None
    assert not still_signed_in(client)
    # Tokens of the session stop working with it.
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_hint_with_client_id_and_no_state_redirects_plainly(app, client, signed_in):
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, signed_in), "client_id": signed_in.client_id,
        "post_logout_redirect_uri": RP_LOGGED_OUT})
    assert response.status_code == 302 and response.headers["Location"] == RP_LOGGED_OUT
    assert session_ended(app, signed_in.session_id)


def test_the_rp_may_post_the_request(app, client, signed_in):
    response = client.post(LOGOUT, data={
        "id_token_hint": id_token(app, signed_in), "post_logout_redirect_uri": RP_LOGGED_OUT,
        "state": "xyz"})
    assert_redirect_home(response)
    assert session_ended(app, signed_in.session_id)


def test_a_hint_for_the_same_person_from_another_session_is_trusted(app, client, signed_in,
                                                                     person):
    other = make_grant(app, person, client_id=signed_in.client_id)  # another session
    response = client.get(LOGOUT, query_string={"id_token_hint": id_token(app, other)})
    assert response.status_code == 200
    assert "You are signed out" in response.get_data(as_text=True)
    assert session_ended(app, signed_in.session_id)
    assert not session_ended(app, other.session_id)


def test_an_expired_hint_is_still_a_good_hint(app, client, signed_in, monkeypatch):
    monkeypatch.setattr("app.oidc.id_token.ID_TOKEN_TTL", -60)
    hint = id_token(app, signed_in)
    response = client.get(LOGOUT, query_string={
        "id_token_hint": hint, "post_logout_redirect_uri": RP_LOGGED_OUT, "state": "xyz"})
    assert_redirect_home(response)


def test_state_is_added_to_a_registered_uri_that_has_a_query(app, client, person):
    login(client, person["email"])
    uri = "https://rp.example.com/bye?from=tessera"
    grant = make_grant(app, person, session_id=latest_session_id(app, person["id"]),
                       post_logout_redirect_uris=[uri])
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, grant), "post_logout_redirect_uri": uri, "state": "a b"})
    location = response.headers["Location"]
    assert location.startswith("https://rp.example.com/bye?")
    assert parse_qs(urlsplit(location).query) == {"from": ["tessera"], "state": ["a b"]}


# --- untrusted requests ask first ------------------------------------------------------------

def confirm_page(client, **params):
    response = client.get(LOGOUT, query_string=params)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sign out of Tessera on this device?" in html
    return html


def hidden(html: str, name: str) -> str | None:
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else None


def test_no_hint_while_signed_in_asks_then_the_confirmation_ends_the_session(
        app, client, signed_in):
    html = confirm_page(client, client_id=signed_in.client_id,
                        post_logout_redirect_uri=RP_LOGGED_OUT, state="xyz")
    assert "Example RP" in html
    assert not session_ended(app, signed_in.session_id) and still_signed_in(client)
    form = {"csrf_token": csrf_from(html), "confirm": "1",
            "client_id": hidden(html, "client_id"),
            "post_logout_redirect_uri": hidden(html, "post_logout_redirect_uri"),
            "state": hidden(html, "state")}
    assert_redirect_home(client.post(LOGOUT, data=form))
    assert session_ended(app, signed_in.session_id)
    assert not still_signed_in(client)


def test_a_bare_request_while_signed_in_asks_then_shows_signed_out(app, client, signed_in):
    html = confirm_page(client)
    response = client.post(LOGOUT, data={"csrf_token": csrf_from(html), "confirm": "1"})
    assert response.status_code == 200
    assert "You are signed out" in response.get_data(as_text=True)
    assert session_ended(app, signed_in.session_id)


def test_a_hint_for_someone_else_asks_first(app, client, signed_in, make_user):
    stranger = make_grant(app, make_user(), client_id=signed_in.client_id)
    confirm_page(client, id_token_hint=id_token(app, stranger))
    assert not session_ended(app, signed_in.session_id)
    assert not session_ended(app, stranger.session_id)


def test_the_confirmation_without_a_csrf_token_is_refused(app, client, signed_in):
    confirm_page(client)
    for token in (None, "forged"):
        data = {"confirm": "1", "post_logout_redirect_uri": RP_LOGGED_OUT,
                "client_id": signed_in.client_id}
        if token:
            data["csrf_token"] = token
        assert_error_page(client.post(LOGOUT, data=data), "security token")
    assert not session_ended(app, signed_in.session_id) and still_signed_in(client)


def test_the_confirmation_revalidates_the_redirect(app, client, signed_in):
    html = confirm_page(client, client_id=signed_in.client_id,
                        post_logout_redirect_uri=RP_LOGGED_OUT)
    response = client.post(LOGOUT, data={
        "csrf_token": csrf_from(html), "confirm": "1", "client_id": signed_in.client_id,
        "post_logout_redirect_uri": "https://evil.example.com/"})
    assert_error_page(response, "not registered")
    assert not session_ended(app, signed_in.session_id)


# --- not signed in ----------------------------------------------------------------------------

def test_not_signed_in_redirects_to_a_valid_target(app, client, person):
    grant = make_grant(app, person)
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, grant), "post_logout_redirect_uri": RP_LOGGED_OUT,
        "state": "xyz"})
    assert_redirect_home(response)
    assert not session_ended(app, grant.session_id)  # not this browser's session


def test_not_signed_in_with_client_id_redirects(app, client):
    client_id, _ = make_client(app)
    response = client.get(LOGOUT, query_string={
        "client_id": client_id, "post_logout_redirect_uri": RP_LOGGED_OUT, "state": "xyz"})
    assert_redirect_home(response)


def test_not_signed_in_without_a_target_shows_signed_out(client):
    response = client.get(LOGOUT)
    assert response.status_code == 200
    assert "You are signed out" in response.get_data(as_text=True)


def test_a_cross_site_post_without_the_cookie_is_retried_as_a_get(app, client, signed_in):
    """SameSite=Lax keeps the sign-in cookie off a cross-site POST; the GET carries it."""
    hint = id_token(app, signed_in)
    params = {"id_token_hint": hint, "post_logout_redirect_uri": RP_LOGGED_OUT,
              "state": "xyz"}
    cookieless = app.test_client()
    response = cookieless.post(LOGOUT, data=params)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == LOGOUT
    assert {k: v[0] for k, v in parse_qs(location.query).items()} == params
    assert not session_ended(app, signed_in.session_id)
    assert_redirect_home(client.get(f"{location.path}?{location.query}"))
    assert session_ended(app, signed_in.session_id)


# --- refused requests: an error page, never a redirect ----------------------------------------

def test_an_unregistered_redirect_is_refused(app, client, signed_in):
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, signed_in),
        "post_logout_redirect_uri": "https://evil.example.com/", "state": "xyz"})
    assert_error_page(response, "not registered")
    assert not session_ended(app, signed_in.session_id) and still_signed_in(client)


@pytest.mark.parametrize("uri", [RP_LOGGED_OUT + "/", RP_LOGGED_OUT + "?x=1",
                                 "https://rp.example.com/cb", RP_LOGGED_OUT.upper()])
def test_the_redirect_must_match_exactly(app, client, uri):
    client_id, _ = make_client(app)
    response = client.get(LOGOUT, query_string={"client_id": client_id,
                                                "post_logout_redirect_uri": uri})
    assert_error_page(response)


def test_a_redirect_without_a_client_is_refused(client):
    response = client.get(LOGOUT, query_string={"post_logout_redirect_uri": RP_LOGGED_OUT})
    assert_error_page(response, "needs an id_token_hint or a client_id")


def test_another_clients_redirect_is_refused(app, client, signed_in):
    other_id, _ = make_client(app, "Other", post_logout_redirect_uris=[
        "https://other.example.com/bye"])
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, signed_in),
        "post_logout_redirect_uri": "https://other.example.com/bye"})
    assert_error_page(response, "not registered")
    assert other_id


def test_a_client_id_that_does_not_match_the_hint_is_refused(app, client, signed_in):
    other_id, _ = make_client(app, "Other")
    response = client.get(LOGOUT, query_string={
        "id_token_hint": id_token(app, signed_in), "client_id": other_id,
        "post_logout_redirect_uri": RP_LOGGED_OUT})
    assert_error_page(response, "does not match")
    assert not session_ended(app, signed_in.session_id)


def test_an_unknown_client_id_is_refused(client):
    assert_error_page(client.get(LOGOUT, query_string={"client_id": "nobody"}))


def test_an_overlong_state_is_refused(app, client):
    client_id, _ = make_client(app)
    response = client.get(LOGOUT, query_string={
        "client_id": client_id, "post_logout_redirect_uri": RP_LOGGED_OUT, "state": "s" * 5000})
    assert_error_page(response)


# --- forged hints -----------------------------------------------------------------------------

def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, sign) -> str:
    signing_input = f"{b64(header)}.{b64(claims)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def hint_claims(grant) -> dict:
    now = int(time.time())
    return {"iss": grant.issuer, "sub": str(grant.user_id), "aud": grant.client_id,
            "azp": grant.client_id, "sid": str(grant.session_id), "iat": now,
            "exp": now + 300}


def our_kid(app, alg: str = "ES256") -> str:
    with app.app_context():
        return keys.signing_key(alg)[0]


def forged_hints(app, client, grant) -> dict[str, str]:
    claims = hint_claims(grant)
    attacker = generate_key("EC", "P-256")
    es256 = JWSRegistry.algorithms["ES256"]
    published = client.get("/.well-known/jwks.json").get_json()["keys"]
    rsa = next(key for key in published if key["alg"] == "RS256")
    pem = import_key(rsa).as_pem(private=False)
    kid = our_kid(app)
    return {
        "foreign key": forge({"alg": "ES256", "typ": "JWT", "kid": attacker.thumbprint()},
                             claims, lambda m: es256.sign(m, attacker)),
        "foreign key under our kid": forge({"alg": "ES256", "typ": "JWT", "kid": kid}, claims,
                                           lambda m: es256.sign(m, attacker)),
        "embedded jwk": forge({"alg": "ES256", "typ": "JWT", "kid": kid,
                               "jwk": attacker.as_dict(private=False)}, claims,
                              lambda m: es256.sign(m, attacker)),
        "alg none": forge({"alg": "none", "typ": "JWT", "kid": kid}, claims, lambda m: b""),
        "HS256 with our public key": forge(
            {"alg": "HS256", "typ": "JWT", "kid": rsa["kid"]}, claims,
            lambda m: hmac.new(pem, m, hashlib.sha256).digest()),
    }


@pytest.mark.parametrize("kind", ["foreign key", "foreign key under our kid", "embedded jwk",
                                  "alg none", "HS256 with our public key"])
def test_a_forged_hint_is_refused(app, client, signed_in, kind):
    hint = forged_hints(app, client, signed_in)[kind]
    response = client.get(LOGOUT, query_string={
        "id_token_hint": hint, "post_logout_redirect_uri": RP_LOGGED_OUT, "state": "xyz"})
    assert_error_page(response, "id_token_hint")
    assert not session_ended(app, signed_in.session_id) and still_signed_in(client)


def test_an_access_token_is_not_an_id_token_hint(app, client, signed_in):
    token, _ = access_token(app, signed_in)
    response = client.get(LOGOUT, query_string={"id_token_hint": token})
    assert_error_page(response, "id_token_hint")
    assert not session_ended(app, signed_in.session_id)


@pytest.mark.parametrize("hint", ["garbage", "a.b.c", "x" * 20_000])
def test_a_garbage_hint_is_refused(client, hint):
    assert_error_page(client.get(LOGOUT, query_string={"id_token_hint": hint}))
