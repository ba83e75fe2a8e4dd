"""/oauth2/userinfo over HTTP: claims by scope, where the token may come from, and RFC 6750
errors for every way a token can be missing, malformed or no longer good."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import update

from app.core import connected_clients, sessions, tokens
from app.core.context import ClientInfo
from app.extensions import db
from app.models import AuthSession, User
from tests.support.oidc_fixtures import access_token, make_grant

USERINFO = "/oauth2/userinfo"


@pytest.fixture
def person(make_user):
    return make_user(first_name="Ada", last_name="Lovelace", username="ada")


@pytest.fixture
def grant(app, person):
    return make_grant(app, person)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_bearer_error(response, status: int, error: str | None):
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    challenge = response.headers["WWW-Authenticate"]
    if error is None:
        assert challenge == "Bearer"
    else:
        assert challenge.startswith(f'Bearer error="{error}", error_description="')
        body = response.get_json()
        assert body["error"] == error and body["error_description"]
    return response


# --- claims ---------------------------------------------------------------------------------

def test_userinfo_releases_the_claims_of_the_tokens_scopes(app, client, grant, person):
    token, _ = access_token(app, grant, scope="openid profile email")
    response = client.get(USERINFO, headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["sub"] == person["id"]
    assert body["name"] == "Ada Lovelace"
    assert (body["given_name"], body["family_name"]) == ("Ada", "Lovelace")
    assert body["preferred_username"] == "ada"
    assert isinstance(body["updated_at"], int)
    assert body["email"] == person["email"]
    assert body["email_verified"] is False


def test_openid_alone_releases_only_sub(app, client, grant, person):
    token, _ = access_token(app, grant, scope="openid")
    assert client.get(USERINFO, headers=bearer(token)).get_json() == {"sub": person["id"]}


def test_email_scope_without_profile_releases_no_name(app, client, grant, person):
    token, _ = access_token(app, grant, scope="openid email")
    body = client.get(USERINFO, headers=bearer(token)).get_json()
    assert set(body) == {"sub", "email", "email_verified"}


def test_email_verified_is_true_only_for_a_verified_address(app, client, make_user):
    verified = make_user(email_verified=True)
    token, _ = access_token(app, make_grant(app, verified), scope="openid email")
    body = client.get(USERINFO, headers=bearer(token)).get_json()
    assert body["email_verified"] is True


# --- where the token comes from ---------------------------------------------------------------

def test_post_with_the_token_in_a_form_body_works(app, client, grant, person):
    token, _ = access_token(app, grant)
    response = client.post(USERINFO, data={"access_token": token})
    assert response.status_code == 200 and response.get_json()["sub"] == person["id"]


def test_post_with_a_bearer_header_works(app, client, grant, person):
    token, _ = access_token(app, grant)
    response = client.post(USERINFO, headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["sub"] == person["id"]


def test_the_bearer_scheme_is_case_insensitive(app, client, grant):
    token, _ = access_token(app, grant)
    assert client.get(USERINFO, headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_header_and_body_at_once_is_invalid_request(app, client, grant):
    token, _ = access_token(app, grant)
    response = client.post(USERINFO, data={"access_token": token}, headers=bearer(token))
    assert_bearer_error(response, 400, "invalid_request")


def test_a_repeated_body_token_is_invalid_request(app, client, grant):
    token, _ = access_token(app, grant)
    response = client.post(USERINFO, data={"access_token": [token, token]})
    assert_bearer_error(response, 400, "invalid_request")


def test_a_token_in_the_query_string_is_refused(app, client, grant):
    token, _ = access_token(app, grant)
    response = client.get(USERINFO, query_string={"access_token": token})
    assert_bearer_error(response, 400, "invalid_request")
    response = client.post(USERINFO, query_string={"access_token": token})
    assert_bearer_error(response, 400, "invalid_request")


def test_a_token_in_a_json_body_is_not_read(app, client, grant):
    token, _ = access_token(app, grant)
    response = client.post(USERINFO, json={"access_token": token})
    assert_bearer_error(response, 401, None)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b"])
def test_a_malformed_authorization_header_is_invalid_request(client, header):
    assert_bearer_error(client.get(USERINFO, headers={"Authorization": header}), 400,
                        "invalid_request")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_no_bearer_token_gets_a_bare_challenge(client, headers):
    response = assert_bearer_error(client.get(USERINFO, headers=headers), 401, None)
    assert response.get_json()["error"] == "invalid_token"


# --- tokens that are not (or no longer) good --------------------------------------------------

def test_an_expired_token_is_invalid_token(app, client, grant):
    token, _ = access_token(app, grant, lifetime=-5)
    response = assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401,
                                   "invalid_token")
    assert "expired" in response.get_json()["error_description"]


def test_a_forged_token_is_invalid_token(app, client, grant):
    token, claims = access_token(app, grant)
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(
        json.dumps(claims | {"sub": "someone-else"}).encode()).rstrip(b"=").decode()
    response = client.get(USERINFO, headers=bearer(f"{header}.{payload}.{signature}"))
    assert_bearer_error(response, 401, "invalid_token")


def test_garbage_is_invalid_token(client):
    assert_bearer_error(client.get(USERINFO, headers=bearer("not-a-jwt")), 401, "invalid_token")



def test_a_token_whose_header_is_nested_too_deeply_is_invalid_token(client):
    header = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")
    response = client.get(USERINFO, headers=bearer(f"{header}.e30.c2ln"))
    assert_bearer_error(response, 401, "invalid_token")

def test_a_token_for_another_audience_is_invalid_token(app, client, grant):
    token, _ = access_token(app, grant, audience="https://api.example.com")
    assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_a_token_without_openid_is_insufficient_scope(app, client, grant):
    token, _ = access_token(app, grant, scope="profile email")
    response = assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 403,
                                   "insufficient_scope")
    assert 'scope="openid"' in response.headers["WWW-Authenticate"]


def test_a_client_credentials_token_is_refused(app, client, grant):
    token, _ = access_token(app, grant, subject=grant.client_id, session_id=None,
                            scope="openid")
    assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_a_token_of_an_ended_session_is_refused_at_once(app, client, grant):
    token, _ = access_token(app, grant)
    assert client.get(USERINFO, headers=bearer(token)).status_code == 200
    with app.app_context():
        sessions.end_session(db.session.get(AuthSession, grant.session_id), reason="logout",
                             client=ClientInfo())
        db.session.commit()
    assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_a_token_whose_consent_was_revoked_is_refused_at_once(app, client, grant):
    token, _ = access_token(app, grant)
    assert client.get(USERINFO, headers=bearer(token)).status_code == 200
    with app.app_context():
        connected_clients.disconnect(grant.user_id, grant.client_id, client=ClientInfo())
        db.session.commit()
    response = assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401,
                                   "invalid_token")
    assert "consent" in response.get_json()["error_description"]


def test_a_revoked_token_is_refused_at_once(app, client, grant):
    token, claims = access_token(app, grant)
    other, _ = access_token(app, grant)
    with app.app_context():
        tokens.revoke_access_token(claims)
        db.session.commit()
    response = assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401,
                                   "invalid_token")
    assert "revoked" in response.get_json()["error_description"]
    assert client.get(USERINFO, headers=bearer(other)).status_code == 200


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_locked": True}])
def test_a_token_of_a_deactivated_user_is_refused_at_once(app, client, grant, change):
    token, _ = access_token(app, grant)
    with app.app_context():
        db.session.execute(update(User).where(User.id == grant.user_id).values(**change))
        db.session.commit()
    assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_a_sessionless_user_token_of_a_deactivated_user_is_refused(app, client, make_user):
    person = make_user()
    grant = make_grant(app, person, with_session=False)
    token, _ = access_token(app, grant)
    assert client.get(USERINFO, headers=bearer(token)).status_code == 200
    with app.app_context():
        db.session.execute(update(User).where(User.id == grant.user_id).values(is_active=False))
        db.session.commit()
    assert_bearer_error(client.get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_other_methods_are_not_allowed(client):
    response = client.put(USERINFO)
    assert response.status_code == 405 and response.get_json()["error"]
