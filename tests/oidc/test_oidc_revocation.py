"""/oauth2/revoke (RFC 7009) over HTTP: refresh tokens take their family with them, access
tokens stop working at once, and nobody learns anything about another client's tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core import tokens
from app.core.errors import InvalidGrant
from app.extensions import db
from app.models import RefreshToken, RevokedAccessToken
from tests.support.oidc_fixtures import access_token, make_client, make_grant, refresh_token

REVOKE = "/oauth2/revoke"
USERINFO = "/oauth2/userinfo"


@pytest.fixture
def person(make_user):
    return make_user()


@pytest.fixture
def grant(app, person):
    return make_grant(app, person)


def revoke(client, grant, token, **extra):
    return client.post(REVOKE, data={"token": token, **extra},
                       auth=(grant.client_id, grant.client_secret))


def assert_ok(response):
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response


def rotate(app, grant, token):
    with app.app_context():
        try:
            new, _, _ = tokens.rotate_refresh_token(token, client_id=grant.client_id)
        finally:
            db.session.commit()
        return new


def revoked_rows(app, grant):
    with app.app_context():
        return [row.revoked_at is not None for row in db.session.scalars(
            select(RefreshToken).where(RefreshToken.client_id == grant.client_id))]


# --- refresh tokens -------------------------------------------------------------------------

def test_revoking_a_refresh_token_revokes_its_whole_family(app, client, grant):
    first = refresh_token(app, grant)
    second = rotate(app, grant, first)
    third = rotate(app, grant, second)
    assert_ok(revoke(client, grant, second, token_type_hint="refresh_token"))
    assert revoked_rows(app, grant) == [True, True, True]
    with pytest.raises(InvalidGrant, match="revoked"):
        rotate(app, grant, third)  # the newest member is dead too


def test_a_refresh_token_is_revoked_whatever_the_hint(app, client, grant):
    token = refresh_token(app, grant)
    assert_ok(revoke(client, grant, token, token_type_hint="access_token"))
    with pytest.raises(InvalidGrant):
        rotate(app, grant, token)


def test_other_families_are_untouched(app, client, grant):
    token = refresh_token(app, grant)
    other = refresh_token(app, grant)
    assert_ok(revoke(client, grant, token))
    assert rotate(app, grant, other).startswith("rt_")


def test_revoking_twice_is_still_200(app, client, grant):
    token = refresh_token(app, grant)
    assert_ok(revoke(client, grant, token))
    assert_ok(revoke(client, grant, token))


# --- access tokens --------------------------------------------------------------------------

def test_a_revoked_access_token_is_refused_by_userinfo(app, client, grant):
    token, claims = access_token(app, grant)
    other, _ = access_token(app, grant)
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    response = assert_ok(revoke(client, grant, token, token_type_hint="access_token"))
    assert response.get_data() in (b"", b"{}")
    refused = client.get(USERINFO, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    with app.app_context():
        assert db.session.get(RevokedAccessToken, claims["jti"]) is not None


def test_an_access_token_is_revoked_whatever_the_hint(app, client, grant):
    token, _ = access_token(app, grant)
    assert_ok(revoke(client, grant, token, token_type_hint="refresh_token"))
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_unsupported_hint_is_still_200(app, client, grant):
    token, _ = access_token(app, grant)
    assert_ok(revoke(client, grant, token, token_type_hint="id_token"))
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- not this client's, or nothing at all ------------------------------------------------------

def test_another_clients_tokens_are_left_alone_and_the_answer_is_200(app, client, grant,
                                                                      make_user):
    intruder_id, intruder_secret = make_client(app, "Intruder")
    access, _ = access_token(app, grant)
    refresh = refresh_token(app, grant)
    for token in (access, refresh):
        assert_ok(client.post(REVOKE, data={"token": token},
                              auth=(intruder_id, intruder_secret)))
    assert revoked_rows(app, grant) == [False]
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {access}"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(RevokedAccessToken)) is None


@pytest.mark.parametrize("token", ["unknown", "rt_unknown", "a.b.c", "x" * 10_000])
def test_an_unknown_token_is_200(client, grant, token):
    assert_ok(revoke(client, grant, token))


def test_an_expired_access_token_is_200(app, client, grant):
    token, _ = access_token(app, grant, lifetime=-5)
    assert_ok(revoke(client, grant, token))


# --- public clients ---------------------------------------------------------------------------

def test_a_public_client_revokes_with_its_client_id(app, client, make_user):
    public_id, _ = make_client(app, "SPA", public=True)
    grant = make_grant(app, make_user(), client_id=public_id)
    refresh = refresh_token(app, grant)
    access, _ = access_token(app, grant)
    for token in (refresh, access):
        assert_ok(client.post(REVOKE, data={"token": token, "client_id": public_id}))
    assert revoked_rows(app, grant) == [True]
    assert client.get(USERINFO, headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_a_public_client_cannot_revoke_another_clients_token(app, client, grant):
    public_id, _ = make_client(app, "SPA", public=True)
    refresh = refresh_token(app, grant)
    assert_ok(client.post(REVOKE, data={"token": refresh, "client_id": public_id}))
    assert revoked_rows(app, grant) == [False]


# --- bad requests -----------------------------------------------------------------------------

def assert_invalid_client(response):
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_secret_is_invalid_client_and_revokes_nothing(app, client, grant):
    token = refresh_token(app, grant)
    assert_invalid_client(client.post(REVOKE, data={"token": token},
                                      auth=(grant.client_id, "wrong")))
    assert revoked_rows(app, grant) == [False]


def test_a_confidential_client_without_its_secret_is_invalid_client(app, client, grant):
    token = refresh_token(app, grant)
    assert_invalid_client(client.post(REVOKE, data={"token": token,
                                                    "client_id": grant.client_id}))
    assert revoked_rows(app, grant) == [False]


def test_no_client_or_an_unknown_client_is_invalid_client(client, grant):
    assert_invalid_client(client.post(REVOKE, data={"token": "rt_x"}))
    assert_invalid_client(client.post(REVOKE, data={"token": "rt_x", "client_id": "nobody"}))
    assert_invalid_client(client.post(REVOKE, data={"token": "rt_x"}, auth=("nobody", "s")))


def test_a_missing_token_is_invalid_request(client, grant):
    for data in ({}, {"token": ""}, {"token_type_hint": "refresh_token"}):
        response = client.post(REVOKE, data=data, auth=(grant.client_id, grant.client_secret))
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"


def test_get_is_not_allowed(client):
    assert client.get(REVOKE).status_code == 405
