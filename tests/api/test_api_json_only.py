"""Every JSON API route reads only bodies declared JSON, and apiauth's cookie only works for
state changes from Tessera's own origin: a cross-site page can send a text/plain or form
POST without asking (a "simple request"), with the browser's cookies attached."""

from __future__ import annotations

import json

import pytest

from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.oidc_fixtures import make_client

LOGIN_PATHS = {"cosmicsync": "/auth/login", "apiauth": "/api/auth/login",
               "apiv1": "/api/v1/auth/login", "eventchain": "/eventchain/v1/auth/login",
               "modernauth": "/v1/auth/login"}
EVIL = "https://evil.example"


@pytest.fixture
def person(make_user):
    return make_user()


def login_json(dialect: str, person: dict, app) -> str:
    body = {"email": person["email"], "password": PASSWORD}
    if dialect == "cosmicsync":
        body["application_id"] = make_client(app)[0]
    return json.dumps(body)


@pytest.mark.parametrize("dialect", sorted(LOGIN_PATHS))
@pytest.mark.parametrize("content_type", ["text/plain", None,
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_json_body_not_declared_json_is_refused_with_415_in_the_envelope(
        client, app, person, dialect, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(LOGIN_PATHS[dialect], data=login_json(dialect, person, app),
                           headers=headers)
    assert response.status_code == 415, response.get_data(as_text=True)
    assert ADAPTERS[dialect].error_code(response.get_json()) == "unsupported_media_type"
    assert "Set-Cookie" not in response.headers  # not signed in


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "application/vnd.example+json"])
def test_json_and_plus_json_bodies_are_read(client, app, person, content_type):
    response = client.post("/v1/auth/login", data=login_json("modernauth", person, app),
                           headers={"Content-Type": content_type})
    assert response.status_code == 200


def test_body_less_requests_are_unaffected(client, app, person):
    tokens = client.post("/v1/auth/login", json={"email": person["email"],
                                                  "password": PASSWORD}).get_json()["tokens"]
    response = client.post("/v1/auth/logout",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200
    login = client.post("/auth/login", data=login_json("cosmicsync", person, app),
                        content_type="application/json").get_json()
    response = client.post("/auth/refresh", headers={"Authorization": f"Bearer {login['token']}"})
    assert response.status_code == 200


def apiauth_signed_in(client, person) -> str:
    response = client.post("/api/auth/login", json={"email": person["email"],
                                                     "password": PASSWORD})
    assert response.status_code == 200 and "jwt=" in response.headers["Set-Cookie"]
    return response.get_json()["token"]


def still_signed_in(client) -> bool:
    return client.get("/api/auth/me").status_code == 200  # by the cookie


def test_a_cross_site_text_plain_post_with_the_cookie_is_refused(client, person):
    apiauth_signed_in(client, person)
    response = client.post("/api/auth/logout", data="{}",
                           headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert response.status_code == 415
    assert response.get_json()["status"] == "fail"
    assert still_signed_in(client)


@pytest.mark.parametrize("headers", [{"Origin": EVIL}, {"Origin": "null"},
                                     {"Origin": "http://localhost.evil.example"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"}])
def test_a_cross_site_state_change_authenticated_by_the_cookie_is_refused(
        client, person, headers):
    apiauth_signed_in(client, person)
    response = client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 403
    assert response.get_json() | {"message": None} == {
        "status": "fail", "code": "forbidden", "message": None}
    assert still_signed_in(client)


@pytest.mark.parametrize("headers", [{"Origin": "http://localhost"},
                                     {"Origin": "http://LOCALHOST:80"},
                                     {"Sec-Fetch-Site": "same-origin"}, {}])
def test_a_same_origin_state_change_may_use_the_cookie(client, person, headers):
    apiauth_signed_in(client, person)
    response = client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 200
    assert not still_signed_in(client)


def test_a_cross_site_request_with_a_bearer_token_is_not_a_cookie_use(client, person):
    token = apiauth_signed_in(client, person)
    client.delete_cookie("jwt", path="/api/auth")
    response = client.post("/api/auth/logout",
                           headers={"Authorization": f"Bearer {token}", "Origin": EVIL})
    assert response.status_code == 200


def test_a_cross_site_read_with_the_cookie_still_works(client, person):
    apiauth_signed_in(client, person)
    assert client.get("/api/auth/me", headers={"Origin": EVIL}).status_code == 200
