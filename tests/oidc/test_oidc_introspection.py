"""/oauth2/introspect (RFC 7662) over HTTP: who may ask, and what an active or inactive
access or refresh token looks like."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.core import sessions, tokens
from app.core.context import ClientInfo
from app.extensions import db
from app.models import AuthSession, RefreshToken
from tests.support.oidc_fixtures import access_token, make_client, make_grant, refresh_token

INTROSPECT = "/oauth2/introspect"


@pytest.fixture
def person(make_user):
    return make_user()


@pytest.fixture
def grant(app, person):
    return make_grant(app, person)


@pytest.fixture
def resource_server(app):
    """A confidential client that is not the one the tokens were issued to."""
    return make_client(app, "Resource server", grant_types=["client_credentials"],
                       redirect_uris=[])


def introspect(client, credentials, token, **extra):
    return client.post(INTROSPECT, data={"token": token, **extra}, auth=credentials)


def assert_inactive(response):
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"active": False}


# --- active tokens --------------------------------------------------------------------------

def test_an_active_access_token_is_described(app, client, grant, person, resource_server):
    token, claims = access_token(app, grant)
    response = introspect(client, resource_server, token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body == {
        "active": True, "token_type": "Bearer", "scope": claims["scope"],
        "client_id": grant.client_id, "sub": person["id"], "aud": grant.issuer,
        "iss": grant.issuer, "exp": claims["exp"], "iat": claims["iat"], "jti": claims["jti"],
        "sid": str(grant.session_id), "username": person["email"],
    }


def test_the_client_a_token_was_issued_to_may_introspect_it(app, client, grant):
    token, _ = access_token(app, grant)
    body = introspect(client, (grant.client_id, grant.client_secret), token).get_json()
    assert body["active"] is True


def test_a_client_registered_for_client_secret_post_authenticates_in_the_body(
        app, client, grant):
    token, _ = access_token(app, grant)
    client_id, secret = make_client(app, "Poster", grant_types=["client_credentials"],
                                    redirect_uris=[], auth_method="client_secret_post")
    response = client.post(INTROSPECT, data={"token": token, "client_id": client_id,
                                             "client_secret": secret})
    assert response.status_code == 200 and response.get_json()["active"] is True


def test_a_client_credentials_token_has_no_username(app, client, grant, resource_server):
    token, _ = access_token(app, grant, subject=grant.client_id, session_id=None, scope="api")
    body = introspect(client, resource_server, token).get_json()
    assert body["active"] is True and body["sub"] == grant.client_id
    assert "username" not in body and "sid" not in body


def test_an_active_refresh_token_is_described(app, client, grant, person, resource_server):
    token = refresh_token(app, grant, scope="openid offline_access")
    body = introspect(client, resource_server, token).get_json()
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["scope"] == "openid offline_access"
    assert body["client_id"] == grant.client_id
    assert (body["sub"], body["username"]) == (person["id"], person["email"])
    assert body["sid"] == str(grant.session_id) and body["iss"] == grant.issuer
    assert body["exp"] > body["iat"]


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "something_else"])
def test_the_token_type_hint_is_only_a_hint(app, client, grant, resource_server, hint):
    access, _ = access_token(app, grant)
    refresh = refresh_token(app, grant)
    for token, kind in ((access, "Bearer"), (refresh, "refresh_token")):
        response = introspect(client, resource_server, token, token_type_hint=hint)
        assert response.status_code == 200
        assert response.get_json()["token_type"] == kind


# --- inactive tokens ------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["unknown", "rt_unknown", "a.b.c", "x" * 10_000])
def test_an_unknown_token_is_just_inactive(client, resource_server, token):
    assert_inactive(introspect(client, resource_server, token))


def test_an_expired_access_token_is_inactive(app, client, grant, resource_server):
    token, _ = access_token(app, grant, lifetime=-5)
    assert_inactive(introspect(client, resource_server, token))


def test_a_revoked_access_token_is_inactive(app, client, grant, resource_server):
    token, claims = access_token(app, grant)
    with app.app_context():
        tokens.revoke_access_token(claims)
        db.session.commit()
    assert_inactive(introspect(client, resource_server, token))


def test_tokens_of_an_ended_session_are_inactive(app, client, grant, resource_server):
    access, _ = access_token(app, grant)
    refresh = refresh_token(app, grant)
    with app.app_context():
        sessions.end_session(db.session.get(AuthSession, grant.session_id), reason="logout",
                             client=ClientInfo())
        db.session.commit()
    assert_inactive(introspect(client, resource_server, access))
    assert_inactive(introspect(client, resource_server, refresh))


def test_a_rotated_refresh_token_is_inactive_and_its_successor_active(
        app, client, grant, resource_server):
    old = refresh_token(app, grant)
    with app.app_context():
        new, _, _ = tokens.rotate_refresh_token(old, client_id=grant.client_id)
        db.session.commit()
    assert_inactive(introspect(client, resource_server, old))
    assert introspect(client, resource_server, new).get_json()["active"] is True


@pytest.mark.parametrize("change", [{"revoked_at": "now"}, {"expires_at": "past"}])
def test_revoked_or_expired_refresh_tokens_are_inactive(app, client, grant, resource_server,
                                                        change):
    from datetime import timedelta

    from app.models.types import utcnow

    token = refresh_token(app, grant)
    values = {"revoked_at": utcnow()} if "revoked_at" in change else {
        "expires_at": utcnow() - timedelta(seconds=1)}
    with app.app_context():
        db.session.execute(update(RefreshToken).values(**values))
        db.session.commit()
    assert_inactive(introspect(client, resource_server, token))


# --- who may ask ------------------------------------------------------------------------------

def assert_invalid_client(response):
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_secret_is_invalid_client(app, client, grant, resource_server):
    token, _ = access_token(app, grant)
    assert_invalid_client(introspect(client, (resource_server[0], "wrong"), token))
    assert "WWW-Authenticate" in introspect(client, (resource_server[0], "wrong"), token).headers


def test_a_wrong_secret_in_the_body_is_invalid_client(app, client, grant, resource_server):
    token, _ = access_token(app, grant)
    client_id, _ = make_client(app, "Poster", grant_types=["client_credentials"],
                               redirect_uris=[], auth_method="client_secret_post")
    for credentials in ((client_id, "wrong"), resource_server):  # basic client in the body
        assert_invalid_client(client.post(INTROSPECT, data={
            "token": token, "client_id": credentials[0], "client_secret": credentials[1]}))


def test_an_unknown_client_is_invalid_client(app, client, grant):
    token, _ = access_token(app, grant)
    assert_invalid_client(introspect(client, ("nobody", "secret"), token))
    assert_invalid_client(client.post(INTROSPECT, data={
        "token": token, "client_id": "nobody", "client_secret": "secret"}))


def test_no_client_authentication_is_invalid_client(app, client, grant):
    token, _ = access_token(app, grant)
    assert_invalid_client(client.post(INTROSPECT, data={"token": token}))


def test_a_confidential_client_without_its_secret_is_invalid_client(app, client, grant):
    token, _ = access_token(app, grant)
    assert_invalid_client(client.post(INTROSPECT, data={"token": token,
                                                        "client_id": grant.client_id}))


def test_a_public_client_may_not_introspect(app, client, make_user):
    public_id, _ = make_client(app, "SPA", public=True)
    grant = make_grant(app, make_user(), client_id=public_id)
    token, _ = access_token(app, grant)
    response = client.post(INTROSPECT, data={"token": token, "client_id": public_id})
    assert_invalid_client(response)
    assert "confidential" in response.get_json()["error_description"]


def test_a_missing_token_is_invalid_request(client, resource_server):
    for data in ({}, {"token": ""}, {"token_type_hint": "access_token"}):
        response = client.post(INTROSPECT, data=data, auth=resource_server)
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"
        assert response.headers["Cache-Control"] == "no-store"


def test_a_token_in_the_query_string_is_not_read(app, client, grant, resource_server):
    token, _ = access_token(app, grant)
    response = client.post(INTROSPECT, query_string={"token": token}, auth=resource_server)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_get_is_not_allowed(client):
    assert client.get(INTROSPECT).status_code == 405
