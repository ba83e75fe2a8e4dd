"""The authorization code flow with PKCE, end to end through the test client."""

import pytest
from sqlalchemy import select

from app.models import AuthorizationCode, Consent
from tests.conftest import login
from tests.support.flow import (
    REDIRECT_URI,
    authorize_params,
    callback_params,
    exchange,
    follow_to_code,
    make_client,
    verify_with_jwks,
)
from tests.support.pkce import pkce_pair


@pytest.fixture
def rp(app):
    return make_client(app)


@pytest.fixture
def person(client, make_user):
    user = make_user(first_name="Ada", last_name="Lovelace", email_verified=True)
    login(client, user["email"])
    return user


def test_signed_in_person_consents_and_the_client_gets_verified_tokens(app, client, rp,
                                                                      person, query):
    verifier, challenge = pkce_pair()
    callback = follow_to_code(client, rp, challenge)
    assert callback["state"] == "state-123"
    assert callback["iss"] == app.config["ISSUER"]
    response = exchange(client, rp, callback["code"], verifier)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["refresh_token"].startswith("rt_")
    assert body["scope"] == "openid profile email"
    id_claims = verify_with_jwks(client, body["id_token"])
    assert id_claims["sub"] == person["id"]
    assert id_claims["aud"] == rp["client_id"] and id_claims["nonce"] == "nonce-456"
    assert id_claims["iss"] == app.config["ISSUER"] and "at_hash" in id_claims
    assert id_claims["amr"] == ["pwd"] and isinstance(id_claims["auth_time"], int)
    access_claims = verify_with_jwks(client, body["access_token"])
    assert access_claims["sid"] == id_claims["sid"] and access_claims["jti"]
    consent = query(lambda s: s.scalar(select(Consent)))
    assert set(consent.scope.split()) == {"openid", "profile", "email"}


def test_a_second_authorization_needs_no_new_consent(client, rp, person):
    _, challenge = pkce_pair()
    follow_to_code(client, rp, challenge)
    response = client.get("/oauth2/authorize", query_string=authorize_params(rp, challenge))
    assert response.headers["Location"].startswith(REDIRECT_URI + "?code=")


def test_a_stranger_is_sent_to_login_and_comes_back(app, rp, make_user):
    user = make_user()
    client = app.test_client()
    _, challenge = pkce_pair()
    response = client.get("/oauth2/authorize", query_string=authorize_params(rp, challenge))
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=/oauth2/authorize/resume/")
    from tests.conftest import post_form

    response = post_form(client, login_url, {"email": user["email"],
                                             "password": user["password"]})
    resume = response.headers["Location"]
    assert resume.startswith("/oauth2/authorize/resume/")
    consent = client.get(resume)
    assert consent.headers["Location"].startswith("/consent?request=")
    page = client.get(consent.headers["Location"]).get_data(as_text=True)
    assert "Example RP" in page and "See your email address" in page


def test_denying_consent_tells_the_client_access_denied(client, rp, person):
    from tests.conftest import post_form

    _, challenge = pkce_pair()
    response = client.get("/oauth2/authorize", query_string=authorize_params(rp, challenge))
    location = response.headers["Location"]
    response = post_form(client, location, {"deny": "Deny",
                                            "request": location.split("request=")[1]},
                         csrf_path=location)
    assert "/oauth2/authorize/resume/" in response.headers["Location"]
    response = client.get(response.headers["Location"])
    callback = callback_params(response.headers["Location"])
    assert callback["error"] == "access_denied" and callback["state"] == "state-123"


def test_code_is_single_use_and_a_replay_revokes_what_it_issued(client, rp, person, query):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    first = exchange(client, rp, code, verifier).get_json()
    replay = exchange(client, rp, code, verifier)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    refreshed = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"]},
                            auth=(rp["client_id"], rp["client_secret"]))
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
    userinfo = client.get("/oauth2/userinfo",
                          headers={"Authorization": f"Bearer {first['access_token']}"})
    assert userinfo.status_code == 401


def test_pkce_verifier_must_match(client, rp, person):
    _, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    response = exchange(client, rp, code, pkce_pair()[0])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_missing_verifier_is_invalid_request(client, rp, person):
    _, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    response = client.post("/oauth2/token", data={"grant_type": "authorization_code",
                                                  "code": code, "redirect_uri": REDIRECT_URI},
                           auth=(rp["client_id"], rp["client_secret"]))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_redirect_uri_must_match_the_authorization_request(client, rp, person):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    response = exchange(client, rp, code, verifier, redirect_uri=REDIRECT_URI + "/other")
    assert response.get_json()["error"] == "invalid_grant"


def test_a_code_for_one_client_is_useless_to_another(app, client, rp, person):
    other = make_client(app, name="Other")
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    response = exchange(client, other, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(app, client, rp, person, query):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    from datetime import timedelta

    from app.extensions import db

    with app.app_context():
        row = db.session.scalar(select(AuthorizationCode))
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    assert exchange(client, rp, code, verifier).get_json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(client, rp, person):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    response = client.post("/oauth2/token", data={"grant_type": "authorization_code",
                                                  "code": code, "redirect_uri": REDIRECT_URI,
                                                  "code_verifier": verifier},
                           auth=(rp["client_id"], "wrong-secret"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_refresh_rotates_and_reuse_revokes_the_family(client, rp, person):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge, scope="openid offline_access")["code"]
    first = exchange(client, rp, code, verifier).get_json()

    def refresh(token):
        return client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": token},
                           auth=(rp["client_id"], rp["client_secret"]))

    second = refresh(first["refresh_token"])
    assert second.status_code == 200
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert "nonce" not in verify_with_jwks(client, rotated["id_token"])
    assert refresh(first["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert refresh(rotated["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_reuse_ends_the_access_tokens_of_the_family(client, rp, person):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge, scope="openid offline_access")["code"]
    first = exchange(client, rp, code, verifier).get_json()
    auth = (rp["client_id"], rp["client_secret"])
    winner = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                "refresh_token": first["refresh_token"]},
                         auth=auth).get_json()

    def userinfo(body):
        return client.get("/oauth2/userinfo",
                          headers={"Authorization": f"Bearer {body['access_token']}"})

    def introspect(body):
        return client.post("/oauth2/introspect", data={"token": body["access_token"]},
                           auth=auth).get_json()

    assert userinfo(winner).status_code == 200 and introspect(winner)["active"] is True
    replay = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                "refresh_token": first["refresh_token"]},
                         auth=auth)
    assert replay.get_json()["error"] == "invalid_grant"
    for body in (winner, first):
        assert userinfo(body).status_code == 401
        assert introspect(body) == {"active": False}


def test_refresh_may_only_narrow_scope(client, rp, person):
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    token = exchange(client, rp, code, verifier).get_json()["refresh_token"]
    auth = (rp["client_id"], rp["client_secret"])
    wider = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                               "refresh_token": token,
                                               "scope": "openid profile email phone"},
                        auth=auth)
    assert wider.get_json()["error"] == "invalid_scope"
    narrower = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": token, "scope": "openid"},
                           auth=auth)
    assert narrower.status_code == 200 and narrower.get_json()["scope"] == "openid"


def test_client_credentials_issues_a_client_token(client, rp):
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(rp["client_id"], rp["client_secret"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert "refresh_token" not in body and "id_token" not in body
    claims = verify_with_jwks(client, body["access_token"])
    assert claims["sub"] == rp["client_id"] and "sid" not in claims


def test_client_credentials_refuses_a_scope_the_client_lacks(client, rp):
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials",
                                                  "scope": "admin"},
                           auth=(rp["client_id"], rp["client_secret"]))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


@pytest.mark.parametrize("data, error", [
    ({}, "unsupported_grant_type"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "invalid_request"),
    ({"grant_type": "refresh_token"}, "invalid_request"),
])
def test_token_endpoint_bad_input(client, rp, data, error):
    response = client.post("/oauth2/token", data=data,
                           auth=(rp["client_id"], rp["client_secret"]))
    assert response.status_code == 400 and response.get_json()["error"] == error


def test_public_client_uses_pkce_without_a_secret(app, client, person):
    public = make_client(app, name="SPA", public=True,
                         grant_types=("authorization_code", "refresh_token"))
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, public, challenge)["code"]
    response = client.post("/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier, "client_id": public["client_id"]})
    assert response.status_code == 200, response.get_json()


def test_without_required_pkce_a_verifier_for_a_code_without_challenge_is_refused(
        app_factory, make_user):
    app = app_factory(PKCE_REQUIRED=False)
    client = app.test_client()
    rp = make_client(app, skip_consent=True)
    login(client, make_user()["email"])
    verifier, _ = pkce_pair()
    code = follow_to_code(client, rp, None, code_challenge_method=None)["code"]
    response = exchange(client, rp, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    code = follow_to_code(client, rp, None, code_challenge_method=None)["code"]
    plain = client.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": REDIRECT_URI},
                        auth=(rp["client_id"], rp["client_secret"]))
    assert plain.status_code == 200


def test_a_public_client_always_needs_pkce(app_factory, make_user):
    app = app_factory(PKCE_REQUIRED=False)
    client = app.test_client()
    public = make_client(app, public=True, grant_types=("authorization_code",))
    login(client, make_user()["email"])
    response = client.get("/oauth2/authorize", query_string=authorize_params(
        public, None, code_challenge_method=None))
    assert callback_params(response.headers["Location"])["error"] == "invalid_request"


def test_claims_requested_one_by_one_are_released(client, rp, person):
    import json

    verifier, challenge = pkce_pair()
    claims = json.dumps({"userinfo": {"email": {"essential": True}},
                         "id_token": {"email": {"essential": True}, "name": None}})
    code = follow_to_code(client, rp, challenge, scope="openid", claims=claims)["code"]
    body = exchange(client, rp, code, verifier).get_json()
    id_claims = verify_with_jwks(client, body["id_token"])
    assert id_claims["email"] == person["email"] and id_claims["name"] == "Ada Lovelace"
    info = client.get("/oauth2/userinfo",
                      headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    # Only `openid` was asked as scope; the claims parameter alone releases the email.
    assert info == {"sub": person["id"], "email": person["email"]}
