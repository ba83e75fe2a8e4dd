"""No control characters in any input: every surface answers a 400 naming the field, in its
own shape, before the value can reach the database (PostgreSQL refuses NUL in text, which
used to surface as a 500). Run these on PostgreSQL too: that is where the old code failed.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.csrf import csrf_from
from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.oidc_fixtures import RP_REDIRECT, make_client

NUL = "\u0000"

LOGIN_PATHS = {"cosmicsync": "/auth/login", "apiauth": "/api/auth/login",
               "apiv1": "/api/v1/auth/login", "eventchain": "/eventchain/v1/auth/login",
               "modernauth": "/v1/auth/login"}


def field_of(dialect: str, body: dict) -> str | None:
    """The field an error names, wherever the dialect's envelope puts it."""
    if dialect == "eventchain":
        return body["error"]["details"].get("field")
    return body.get("field")


def login_body(dialect: str, application_id: str, **fields) -> dict:
    body = {"email": "someone@example.com", "password": "x" * 12} | fields
    if dialect == "cosmicsync":
        body.setdefault("application_id", application_id)
    return body


@pytest.fixture
def application_id(app):
    return make_client(app)[0]


@pytest.mark.parametrize("dialect", sorted(LOGIN_PATHS))
@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("character", [NUL, "\u0007", "\u007f", "\u009b", "\ud800"])
def test_a_control_character_in_any_dialects_login_is_a_400_naming_the_field(
        client, application_id, dialect, field, character):
    body = login_body(dialect, application_id)
    body[field] = "a" + character + body[field]
    response = client.post(LOGIN_PATHS[dialect], json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field_of(dialect, response.get_json()) == field
    assert ADAPTERS[dialect].error_code(response.get_json()) not in ("server_error", "error")


@pytest.mark.parametrize("dialect", sorted(LOGIN_PATHS))
def test_a_bare_nul_email_at_login_is_a_400(client, application_id, dialect):
    response = client.post(LOGIN_PATHS[dialect],
                           json=login_body(dialect, application_id, email=NUL, password="x"))
    assert response.status_code == 400
    assert field_of(dialect, response.get_json()) == "email"


@pytest.mark.parametrize("character", ["\t", "\n", "\r"])
def test_tab_and_line_breaks_pass_the_edge(client, make_user, character):
    person = make_user()
    response = client.post("/v1/auth/login",
                           json={"email": person["email"], "password": PASSWORD + character})
    assert response.status_code == 401  # a wrong password, not bad input


def test_registration_with_a_nul_in_the_username_writes_nothing(client, app):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import User

    response = client.post("/api/auth/register", json={
        "username": "ada" + NUL, "email": "ada@example.com", "password": PASSWORD,
        "passwordConfirm": PASSWORD})
    assert response.status_code == 400
    assert response.get_json()["field"] == "username"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_cosmicsync_application_id_with_a_nul_is_a_400_in_body_and_query(
        client, make_user, application_id):
    person = make_user()
    response = client.post("/auth/login", json={"email": person["email"], "password": PASSWORD,
                                                "application_id": "a" + NUL + "b"})
    assert response.status_code == 400
    assert response.get_json() | {"message": None} == {
        "error": "validation", "message": None, "field": "application_id"}

    token = client.post("/auth/login", json={"email": person["email"], "password": PASSWORD,
                                             "application_id": application_id}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    response = client.get("/users/me/data/preferences?application_id=a%00b", headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["field"] == "application_id"
    response = client.post("/users/me/data", headers=bearer, json={
        "key": "preferences", "value": {"theme": {"na\u0000me": 1}},
        "application_id": application_id})
    assert response.status_code == 400
    assert response.get_json()["field"] == "value.theme.na\\u0000me"
    response = client.get("/users/me/data/pre%00ferences", headers=bearer,
                          query_string={"application_id": application_id})
    assert response.status_code == 400
    assert response.get_json()["field"] == "key"


def test_eventchain_profile_update_with_a_nul_is_a_400_and_changes_nothing(client, make_user):
    person = make_user(first_name="Ada")
    login = client.post("/eventchain/v1/auth/login",
                        json={"email": person["email"], "password": PASSWORD}).get_json()
    bearer = {"Authorization": f"Bearer {login['data']['accessToken']}"}
    response = client.put("/eventchain/v1/auth/profile", headers=bearer,
                          json={"firstName": "Gr" + NUL + "ace"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and body["error"]["details"] == {"field": "firstName"}
    profile = client.get("/eventchain/v1/auth/profile", headers=bearer).get_json()
    assert profile["data"]["user"]["firstName"] == "Ada"


def test_token_endpoint_refuses_a_nul_client_id_as_invalid_request(client):
    response = client.post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "a\u0000b", "client_secret": "s"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_request" and "client_id" in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_token_endpoint_refuses_a_nul_in_basic_credentials(client):
    import base64

    credentials = base64.b64encode(b"a\x00b:secret").decode()
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/oauth2/introspect", "/oauth2/revoke"])
def test_introspection_and_revocation_refuse_a_nul_token(client, app, path):
    client_id, secret = make_client(app)
    response = client.post(path, data={"token": "rt_" + NUL},
                           auth=(client_id, secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_authorize_with_a_nul_client_id_shows_an_error_page(client):
    response = client.get("/oauth2/authorize?client_id=a%00b&response_type=code"
                          f"&redirect_uri={RP_REDIRECT}&scope=openid")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


def test_authorize_with_a_nul_redirect_uri_shows_an_error_page(client, app):
    client_id, _ = make_client(app)
    response = client.get(f"/oauth2/authorize?client_id={client_id}&response_type=code"
                          f"&redirect_uri={RP_REDIRECT}%00&scope=openid")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("parameter", ["state", "nonce", "login_hint", "scope"])
def test_authorize_with_a_nul_elsewhere_answers_invalid_request_at_the_redirect_uri(
        client, app, parameter):
    client_id, _ = make_client(app)
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": RP_REDIRECT,
             "scope": "openid", "state": "s1", "code_challenge": "x" * 43,
             "code_challenge_method": "S256"}
    query[parameter] = "a" + NUL
    response = client.get("/oauth2/authorize", query_string=query)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(RP_REDIRECT)
    answer = parse_qs(urlsplit(location).query)
    assert answer["error"] == ["invalid_request"]
    assert parameter in answer["error_description"][0]
    # A refused state is not echoed back.
    assert answer.get("state") == (None if parameter == "state" else ["s1"])


def test_authorize_refuses_a_claims_parameter_spelling_a_nul_as_a_json_escape(client, app):
    client_id, _ = make_client(app)
    response = client.get("/oauth2/authorize", query_string={
        "client_id": client_id, "response_type": "code", "redirect_uri": RP_REDIRECT,
        "scope": "openid", "code_challenge": "x" * 43, "code_challenge_method": "S256",
        "claims": '{"id_token": {"acr": {"value": "a\\u0000"}}}'})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == [
        "invalid_request"]


def test_logout_endpoint_refuses_a_nul_hint_with_a_page(client):
    response = client.get("/oauth2/logout?id_token_hint=a%00b")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_hosted_login_form_with_a_nul_is_a_themed_400_page(client, make_user):
    person = make_user()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token,
                                           "email": person["email"] + NUL,
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "email" in response.get_data(as_text=True)


def test_hosted_page_query_with_a_nul_is_a_themed_400_page(client):
    response = client.get("/password/reset?token=abc%00def")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_webauthn_json_with_a_nul_is_a_400_naming_the_field(client, make_user):
    person = make_user()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/webauthn/login/begin", json={"email": person["email"] + NUL},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert "email" in response.get_json()["error_description"]


def test_a_nul_in_a_query_parameter_name_is_named_escaped(client):
    response = client.get("/v1/auth/me?a%00b=1")
    assert response.status_code == 400
    assert response.get_json()["field"] == "a\\u0000b"


def test_a_nul_in_the_user_agent_is_refused_before_it_is_stored_with_a_session(
        client, make_user):
    person = make_user()
    response = client.post("/v1/auth/login", json={"email": person["email"],
                                                   "password": PASSWORD},
                           headers={"User-Agent": "curl\u0000"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "User-Agent"


def test_utf8_text_in_a_header_passes(client, make_user):
    person = make_user()
    user_agent = "Navigateur \u2026 d\u00e9mo".encode().decode("latin-1")
    response = client.post("/v1/auth/login", json={"email": person["email"],
                                                   "password": PASSWORD},
                           headers={"User-Agent": user_agent})
    assert response.status_code == 200


def test_the_authorization_endpoint_still_has_its_headers_checked(client, app):
    client_id, _ = make_client(app)
    response = client.get("/oauth2/authorize", query_string={
        "client_id": client_id, "response_type": "code", "redirect_uri": RP_REDIRECT,
        "scope": "openid"}, headers={"User-Agent": "x\u0000"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("depth", [500, 5000])
def test_a_nul_deep_in_a_nested_body_is_a_400_never_a_500(client, depth):
    body = '{"email": ' + "[" * depth + '"\\u0000"' + "]" * depth + ', "password": "x"}'
    response = client.post("/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
