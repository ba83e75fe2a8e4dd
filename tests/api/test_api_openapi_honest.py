"""The OpenAPI documents say what the server does: every status a request gets is listed for
its operation, the field rules are core's, and a blank body means the same everywhere."""

from __future__ import annotations

import re

import pytest

from app.core import accounts, clients
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD


def _documented(client, dialect_id: str, method: str, path: str) -> set[int]:
    document = client.get(f"/openapi/{dialect_id}.json").get_json()
    return {int(status) for status in document["paths"][path][method.lower()]["responses"]}


@pytest.fixture
def application_id(app) -> str:
    with app.app_context():
        registered, _secret = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        return registered.client_id


def _bearer(client, path: str, body: dict, take) -> dict:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return {"Authorization": f"Bearer {take(response.get_json())}"}


def test_a_wrong_password_answers_a_documented_401(client, make_user):
    user = make_user()
    for dialect_id, path in (("modernauth", "/v1/auth/login"),
                             ("apiv1", "/api/v1/auth/login"),
                             ("apiauth", "/api/auth/login"),
                             ("eventchain", "/eventchain/v1/auth/login")):
        response = client.post(path, json={"email": user["email"], "password": "wrong-one-1"})
        assert response.status_code == 401
        assert 401 in _documented(client, dialect_id, "POST", path), path


def test_registering_a_taken_address_answers_a_documented_409(client, make_user):
    user = make_user()
    response = client.post("/api/v1/auth/register", json={
        "email": user["email"], "password": DEFAULT_PASSWORD, "firstName": "A",
        "lastName": "B"})
    assert response.status_code == 409
    assert 409 in _documented(client, "apiv1", "POST", "/api/v1/auth/register")


@pytest.mark.parametrize(("dialect_id", "path", "body"), [
    ("modernauth", "/v1/auth/login/mfa", {"mfa_token": "stale", "code": "123456"}),
    ("modernauth", "/v1/auth/login/mfa/backup", {"mfa_token": "stale", "code": "abcd"}),
    ("modernauth", "/v1/auth/login/mfa/email", {"mfa_token": "stale", "code": "123456"}),
    ("modernauth", "/v1/auth/login/mfa/email/send", {"mfa_token": "stale"}),
    ("apiv1", "/api/v1/auth/verify-mfa", {"mfaToken": "stale", "code": "123456"}),
    ("apiv1", "/api/v1/auth/verify-totp", {"mfaToken": "stale", "code": "123456"}),
    ("cosmicsync", "/auth/mfa/verify", {"mfa_token": "stale", "code": "123456"}),
])
def test_an_mfa_login_step_with_a_stale_login_answers_a_documented_401(client, dialect_id,
                                                                       path, body):
    response = client.post(path, json=body)
    assert response.status_code == 401
    assert 401 in _documented(client, dialect_id, "POST", path)


def test_an_unknown_refresh_token_answers_a_documented_status(client):
    for dialect_id, path, body in (
            ("eventchain", "/eventchain/v1/auth/refresh", {"refreshToken": "nope"}),
            ("apiv1", "/api/v1/auth/refresh", {"refreshToken": "nope"}),
            ("modernauth", "/v1/auth/refresh", {"refresh_token": "nope"})):
        response = client.post(path, json=body)
        assert response.status_code in (400, 401)
        assert response.status_code in _documented(client, dialect_id, "POST", path), path


def test_assigning_a_role_without_being_an_administrator_answers_a_documented_403(
        client, make_user, application_id):
    user = make_user()
    other = make_user()
    application = application_id
    headers = _bearer(client, "/auth/login", {"email": user["email"], "password": user["password"],
                                               "application_id": application},
                      lambda body: body["token"])
    response = client.post(f"/users/{other['id']}/roles", json={"role": "admin"},
                           headers=headers)
    assert response.status_code == 403
    assert 403 in _documented(client, "cosmicsync", "POST", "/users/{user_id}/roles")


def test_every_operation_lists_what_the_edge_answers_for_it(client):
    for dialect_id in ("apiauth", "apiv1", "cosmicsync", "eventchain", "modernauth"):
        document = client.get(f"/openapi/{dialect_id}.json").get_json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                statuses = set(operation["responses"])
                assert "503" in statuses, (method, path)
                if "security" in operation:
                    assert "401" in statuses, (method, path)
                if "requestBody" in operation:
                    assert {"400", "413", "415"} <= statuses, (method, path)
                if operation.get("description", "").startswith("Rate limited"):
                    assert "429" in statuses, (method, path)
                for status, answer in operation["responses"].items():
                    if int(status) >= 400:
                        # The example is in the dialect's envelope, as the server sends it.
                        assert answer["content"]["application/json"]["example"]


def _request_schema(client, dialect_id: str, path: str) -> dict:
    document = client.get(f"/openapi/{dialect_id}.json").get_json()
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_email_rule_in_the_documents_is_cores(client):
    for dialect_id, path in (("modernauth", "/v1/auth/register"),
                             ("apiv1", "/api/v1/auth/register"),
                             ("apiauth", "/api/auth/register"),
                             ("eventchain", "/eventchain/v1/auth/register"),
                             ("cosmicsync", "/auth/register")):
        email = _request_schema(client, dialect_id, path)["properties"]["email"]
        assert email["format"] == "email"
        assert email["minLength"] == 1
        assert email["maxLength"] == accounts.EMAIL_MAX_LENGTH
    # Just past the documented length is what core refuses, naming the field.
    too_long = "a" * (accounts.EMAIL_MAX_LENGTH - len("@example.com") + 1) + "@example.com"
    response = client.post("/v1/auth/register", json={"email": too_long,
                                                      "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert response.get_json()["field"] == "email"


def test_the_password_policy_in_the_documents_follows_the_settings(app_factory):
    client = app_factory(PASSWORD_MIN_LENGTH=12, PASSWORD_MAX_LENGTH=64).test_client()
    schema = _request_schema(client, "modernauth", "/v1/auth/register")
    assert (schema["properties"]["password"]["minLength"],
            schema["properties"]["password"]["maxLength"]) == (12, 64)
    # The login password is only checked, never held to the policy: any non-empty one.
    login = _request_schema(client, "modernauth", "/v1/auth/login")["properties"]["password"]
    assert login["minLength"] == 1
    response = client.post("/v1/auth/register", json={"email": "short@example.com",
                                                      "password": "x" * 11})
    assert response.status_code == 400


def test_patterns_and_lengths_are_cores_and_every_string_is_bounded(client):
    profile = _request_schema(client, "cosmicsync", "/auth/register")["properties"]
    assert profile["username"]["anyOf"][0]["pattern"] == accounts.USERNAME_PATTERN.pattern
    register = _request_schema(client, "modernauth", "/v1/auth/register")["properties"]
    assert register["phone"]["anyOf"][0]["pattern"] == accounts.PHONE_PATTERN.pattern
    assert register["first_name"]["anyOf"][0]["maxLength"] == accounts.NAME_MAX
    refresh = _request_schema(client, "modernauth", "/v1/auth/refresh")["properties"]
    assert refresh["refresh_token"]["minLength"] == 1
    for dialect_id in ("apiauth", "apiv1", "cosmicsync", "eventchain", "modernauth"):
        text = client.get(f"/openapi/{dialect_id}.json").get_data(as_text=True)
        # No request string is documented as unbounded (pydantic refuses over 4096).
        for body in re.findall(r'"requestBody".*?"\$ref": "([^"]+)"', text):
            name = body.rsplit("/", 1)[1]
            schema = client.get(f"/openapi/{dialect_id}.json").get_json()[
                "components"]["schemas"][name]
            for field, spec in schema["properties"].items():
                for branch in spec.get("anyOf", [spec]):
                    if branch.get("type") == "string":
                        assert "maxLength" in branch, (dialect_id, name, field)


@pytest.fixture
def cosmicsync_bearer(client, make_user, application_id) -> dict:
    user = make_user()
    return _bearer(client, "/auth/login", {"email": user["email"], "password": user["password"],
                                           "application_id": application_id},
                   lambda body: body["token"])


@pytest.mark.parametrize("blank", [b"", b" ", b" \t\r\n "])
def test_a_body_of_json_white_space_is_no_body(client, cosmicsync_bearer, blank):
    headers = cosmicsync_bearer | {"Content-Type": "application/json"}
    # Set-up takes an optional body: no body, so it starts.
    assert client.post("/auth/mfa/enable", data=blank, headers=headers).status_code == 200
    # Verify requires one: refused, naming the body.
    response = client.post("/auth/mfa/verify", data=blank, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


@pytest.mark.parametrize("blank", [b"\x0c", b"\x0b", b" \x0c\n", b"\x1c"])
def test_a_body_of_other_white_space_is_not_json_and_is_refused(client, cosmicsync_bearer,
                                                                 blank):
    headers = cosmicsync_bearer | {"Content-Type": "application/json"}
    response = client.post("/auth/mfa/enable", data=blank, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"
