"""eventchain at /eventchain/v1/auth: every endpoint this dialect serves.

Described in docs/dialects/eventchain.md.
"""

import pytest
from sqlalchemy import update

from app.models import User
from tests.conftest import DEFAULT_PASSWORD

BASE = "/eventchain/v1/auth"
NEW_PASSWORD = "a completely new phrase"

SUCCESS_KEYS = {"success", "data"}
ERROR_KEYS = {"success", "error"}
ERROR_INNER_KEYS = {"code", "message", "details"}
REGISTERED_USER_KEYS = {"id", "email", "firstName", "lastName", "role", "isVerified"}
LOGIN_USER_KEYS = {"id", "email", "firstName", "lastName", "role"}
TOKEN_DATA_KEYS = {"accessToken", "refreshToken", "user", "expiresIn"}
PROFILE_USER_KEYS = REGISTERED_USER_KEYS | {"phone", "createdAt"}


def register(client, email="ada@example.com", **fields):
    body = {"email": email, "password": DEFAULT_PASSWORD, "firstName": "Ada",
            "lastName": "Lovelace", "role": "attendee"} | fields
    return client.post(f"{BASE}/register", json=body)


def login(client, email="ada@example.com", password=DEFAULT_PASSWORD):
    return client.post(f"{BASE}/login", json={"email": email, "password": password})


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def data(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == SUCCESS_KEYS and body["success"] is True
    return body["data"]


def error(response, status, code, field=None):
    """Assert the document's error envelope; returns the inner error object."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ERROR_KEYS and body["success"] is False
    assert set(body["error"]) == ERROR_INNER_KEYS
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["details"] == ({"field": field} if field else {})
    return body["error"]


@pytest.fixture
def tokens(client):
    data(register(client), 201)
    return data(login(client))


# --- register --------------------------------------------------------------------------------

def test_register_returns_the_user_and_no_token(client):
    body = data(register(client), 201)
    assert set(body) == {"user", "message"}
    assert body["message"] == "Registration successful. Please verify your email."
    user = body["user"]
    assert set(user) == REGISTERED_USER_KEYS
    assert user == {"id": user["id"], "email": "ada@example.com", "firstName": "Ada",
                    "lastName": "Lovelace", "role": "attendee", "isVerified": False}


def test_registration_does_not_sign_in(client, query):
    data(register(client), 201)
    from app.models import AuthSession

    assert query(lambda s: s.query(AuthSession).count()) == 0


def test_register_without_role_gets_attendee(client):
    body = {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "firstName": "Ada",
            "lastName": "Lovelace"}
    assert data(client.post(f"{BASE}/register", json=body), 201)["user"]["role"] == "attendee"


def test_register_as_organizer_is_self_service(client):
    assert data(register(client, role="organizer"), 201)["user"]["role"] == "organizer"
    tokens = data(login(client))
    assert tokens["user"]["role"] == "organizer"
    permissions = data(client.get(f"{BASE}/permissions", headers=bearer(tokens)))
    assert permissions == {"roles": ["organizer"], "permissions": ["events:read",
                                                                  "events:write"]}


def test_self_registration_never_grants_admin(client):
    error(register(client, role="admin"), 403, "forbidden", "role")
    # Nothing was created: the address is still free and cannot sign in.
    error(login(client), 401, "AUTH_001")
    assert data(register(client), 201)["user"]["role"] == "attendee"


def test_register_unknown_role_is_a_validation_error(client):
    error(register(client, role="superuser"), 400, "validation", "role")


def test_register_weak_password_is_auth_006(client):
    error(register(client, password="short"), 400, "AUTH_006", "password")


def test_register_taken_email_is_auth_007(client, make_user):
    make_user(email="ada@example.com")
    error(register(client, email="ADA@example.com"), 409, "AUTH_007", "email")


@pytest.mark.parametrize("change, field", [
    ({"email": None}, "email"),
    ({"password": None}, "password"),
    ({"firstName": None}, "firstName"),
    ({"lastName": None}, "lastName"),
    ({"email": 5}, "email"),
    ({"role": ["admin"]}, "role"),
    ({"firstName": True}, "firstName"),
    ({"isVerified": True}, "isVerified"),
    ({"email": "not-an-address"}, "email"),
    ({"firstName": "x" * 101}, "firstName"),
])
def test_register_bad_input_names_the_field(client, change, field):
    body = {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "firstName": "Ada",
            "lastName": "Lovelace"}
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    error(client.post(f"{BASE}/register", json=body), 400, "validation", field)


@pytest.mark.parametrize("path", ["/register", "/login", "/refresh"])
@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", "\"text\"", "\xff\xfe"])
def test_malformed_bodies_are_400_in_the_envelope(client, path, raw):
    response = client.post(f"{BASE}{path}", data=raw.encode("latin-1"),
                           headers={"Content-Type": "application/json"})
    error(response, 400, "validation", "body")


def test_an_oversized_body_is_400_not_a_crash(client):
    body = {"email": "ada@example.com", "password": "x" * 70_000}
    error(client.post(f"{BASE}/login", json=body), 400, "validation", "body")


# --- login, refresh, logout ----------------------------------------------------------------

def test_login_returns_tokens_and_the_user(client):
    registered = data(register(client), 201)["user"]
    body = data(login(client))
    assert set(body) == TOKEN_DATA_KEYS
    assert set(body["user"]) == LOGIN_USER_KEYS
    assert body["user"] == {k: v for k, v in registered.items() if k != "isVerified"}
    assert body["expiresIn"] == 3600
    assert body["accessToken"].count(".") == 2
    assert body["refreshToken"].startswith("rt_")


def test_login_of_a_user_with_no_role_shows_role_null(client, make_user):
    make_user(email="plain@example.com")
    assert data(login(client, email="plain@example.com"))["user"]["role"] is None


def test_wrong_password_and_unknown_email_are_auth_001(client):
    data(register(client), 201)
    first = error(login(client, password="not the password"), 401, "AUTH_001")
    second = error(login(client, email="nobody@example.com"), 401, "AUTH_001")
    assert first["message"] == second["message"]


@pytest.mark.parametrize("column", ["is_locked", "is_active"])
def test_locked_or_deactivated_account_is_auth_005(client, make_user, query, column):
    user = make_user(email="ada@example.com")

    def disable(session):
        session.execute(update(User).where(User.email == user["email"])
                        .values({column: column == "is_locked"}))
        session.commit()

    query(disable)
    error(login(client), 403, "AUTH_005")


@pytest.mark.parametrize("body, field", [
    ({"password": DEFAULT_PASSWORD}, "email"),
    ({"email": "ada@example.com"}, "password"),
    ({"email": "ada@example.com", "password": 12345678}, "password"),
    ({"email": "ada@example.com", "password": DEFAULT_PASSWORD, "remember": True}, "remember"),
])
def test_login_bad_input_names_the_field(client, body, field):
    error(client.post(f"{BASE}/login", json=body), 400, "validation", field)


def test_refresh_rotates_and_a_replay_revokes_the_family(client, tokens):
    fresh = data(client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]}))
    assert set(fresh) == TOKEN_DATA_KEYS and set(fresh["user"]) == LOGIN_USER_KEYS
    assert fresh["refreshToken"] != tokens["refreshToken"]
    assert fresh["accessToken"] != tokens["accessToken"]
    assert data(client.get(f"{BASE}/profile", headers=bearer(fresh)))["user"]["email"] \
        == "ada@example.com"
    replay = client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]})
    error(replay, 401, "AUTH_004")
    # Reuse revoked the whole family, including the token just issued.
    error(client.post(f"{BASE}/refresh", json={"refreshToken": fresh["refreshToken"]}),
          401, "AUTH_004")


@pytest.mark.parametrize("body, status, code, field", [
    ({"refreshToken": "rt_not-a-real-token"}, 401, "AUTH_004", None),
    ({"refreshToken": ""}, 401, "AUTH_004", "refreshToken"),
    ({}, 400, "validation", "refreshToken"),
    ({"refreshToken": 7}, 400, "validation", "refreshToken"),
    ({"refresh_token": "rt_x"}, 400, "validation", "refreshToken"),
])
def test_refresh_bad_input(client, body, status, code, field):
    error(client.post(f"{BASE}/refresh", json=body), status, code, field)


def test_an_access_token_is_not_a_refresh_token(client, tokens):
    error(client.post(f"{BASE}/refresh", json={"refreshToken": tokens["accessToken"]}),
          401, "AUTH_004")


def test_logout_ends_the_session_and_its_tokens(client, tokens):
    other = data(login(client))
    body = data(client.post(f"{BASE}/logout", headers=bearer(tokens)))
    assert set(body) == {"message"}
    error(client.get(f"{BASE}/profile", headers=bearer(tokens)), 401, "AUTH_004")
    error(client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]}),
          401, "AUTH_004")
    # Another sign-in of the same person is untouched.
    data(client.get(f"{BASE}/profile", headers=bearer(other)))


# --- bearer tokens -------------------------------------------------------------------------

BEARER_ENDPOINTS = [("POST", "/logout"), ("GET", "/profile"), ("PUT", "/profile"),
                    ("PUT", "/password"), ("GET", "/permissions")]


@pytest.mark.parametrize("method, path", BEARER_ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic YTpi",
                                    "Bearer " + "x" * 5000])
def test_bearer_endpoints_refuse_missing_or_bad_tokens_with_auth_004(client, method, path,
                                                                      header):
    headers = {"Authorization": header} if header else {}
    response = client.open(f"{BASE}{path}", method=method, headers=headers, json={})
    error(response, 401, "AUTH_004")


def test_an_expired_token_is_auth_003(app, client, tokens):
    from app.core import api_logins
    from app.core import tokens as core_tokens
    from app.extensions import db

    user_id = data(client.get(f"{BASE}/profile", headers=bearer(tokens)))["user"]["id"]
    with app.app_context():
        expired, _ = core_tokens.issue_access_token(
            subject=user_id, client_id=api_logins.api_client_id("eventchain"),
            scope=api_logins.API_SCOPE, audience=app.config["ISSUER"], session_id=None,
            lifetime=-60)
        db.session.commit()
    for method, path in BEARER_ENDPOINTS:
        response = client.open(f"{BASE}{path}", method=method,
                               headers={"Authorization": f"Bearer {expired}"}, json={})
        error(response, 401, "AUTH_003")


# --- profile ---------------------------------------------------------------------------------

def test_get_profile(client, tokens):
    body = data(client.get(f"{BASE}/profile", headers=bearer(tokens)))
    assert set(body) == {"user"} and set(body["user"]) == PROFILE_USER_KEYS
    assert body["user"]["firstName"] == "Ada" and body["user"]["phone"] is None
    assert body["user"]["role"] == "attendee" and body["user"]["isVerified"] is False


def test_put_profile_changes_only_the_fields_sent(client, tokens):
    body = data(client.put(f"{BASE}/profile", headers=bearer(tokens),
                           json={"lastName": "Smith", "phone": "+1234567890"}))
    assert body["user"]["firstName"] == "Ada"
    assert body["user"]["lastName"] == "Smith" and body["user"]["phone"] == "+1234567890"
    again = data(client.get(f"{BASE}/profile", headers=bearer(tokens)))["user"]
    assert again == body["user"]
    cleared = data(client.put(f"{BASE}/profile", headers=bearer(tokens), json={"phone": None}))
    assert cleared["user"]["phone"] is None and cleared["user"]["lastName"] == "Smith"


@pytest.mark.parametrize("body, field", [
    ({"phone": "call me"}, "phone"),
    ({"phone": 1234567890}, "phone"),
    ({"firstName": "x" * 101}, "firstName"),
    ({"lastName": ["Smith"]}, "lastName"),
    ({"email": "new@example.com"}, "email"),
    ({"role": "admin"}, "role"),
])
def test_put_profile_bad_input_names_the_field(client, tokens, body, field):
    response = client.put(f"{BASE}/profile", headers=bearer(tokens), json=body)
    error(response, 400, "validation", field)
    assert data(client.get(f"{BASE}/profile", headers=bearer(tokens)))["user"]["role"] \
        == "attendee"


def test_put_profile_needs_a_json_object(client, tokens):
    response = client.put(f"{BASE}/profile", headers={**bearer(tokens),
                                                      "Content-Type": "application/json"},
                          data="{oops")
    error(response, 400, "validation", "body")


# --- password --------------------------------------------------------------------------------

def test_change_password_keeps_this_session_and_ends_the_others(client, tokens):
    other = data(login(client))
    body = data(client.put(f"{BASE}/password", headers=bearer(tokens),
                           json={"currentPassword": DEFAULT_PASSWORD,
                                 "newPassword": NEW_PASSWORD}))
    assert set(body) == {"message"}
    data(client.get(f"{BASE}/profile", headers=bearer(tokens)))
    error(client.get(f"{BASE}/profile", headers=bearer(other)), 401, "AUTH_004")
    error(client.post(f"{BASE}/refresh", json={"refreshToken": other["refreshToken"]}),
          401, "AUTH_004")
    error(login(client), 401, "AUTH_001")
    data(login(client, password=NEW_PASSWORD))


@pytest.mark.parametrize("body, status, code, field", [
    ({"currentPassword": "not the password", "newPassword": NEW_PASSWORD},
     400, "wrong_password", "currentPassword"),
    ({"currentPassword": DEFAULT_PASSWORD, "newPassword": "short"},
     400, "AUTH_006", "newPassword"),
    ({"currentPassword": DEFAULT_PASSWORD, "newPassword": DEFAULT_PASSWORD},
     400, "validation", "newPassword"),
    ({"currentPassword": DEFAULT_PASSWORD}, 400, "validation", "newPassword"),
    ({"newPassword": NEW_PASSWORD}, 400, "validation", "currentPassword"),
    ({"currentPassword": DEFAULT_PASSWORD, "newPassword": 12345678},
     400, "validation", "newPassword"),
    ({"current_password": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD},
     400, "validation", "currentPassword"),
])
def test_change_password_bad_input(client, tokens, body, status, code, field):
    response = client.put(f"{BASE}/password", headers=bearer(tokens), json=body)
    error(response, status, code, field)
    data(login(client))  # the password did not change


# --- permissions -----------------------------------------------------------------------------

def test_permissions_lists_roles_and_permissions(client, tokens):
    body = data(client.get(f"{BASE}/permissions", headers=bearer(tokens)))
    assert body == {"roles": ["attendee"], "permissions": ["events:read", "tickets:purchase"]}


# --- the mount -------------------------------------------------------------------------------

def test_unknown_path_and_wrong_method_answer_in_the_envelope(client):
    error(client.get(f"{BASE}/nothing-here"), 404, "not_found")
    error(client.get(f"{BASE}/verify/send"), 405, "method_not_allowed")
    wrong = client.get(f"{BASE}/login")
    error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"]
    error(client.delete(f"{BASE}/profile"), 405, "method_not_allowed")


def test_responses_carry_the_documented_security_headers(client):
    response = login(client)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-XSS-Protection"] == "1; mode=block"


def test_openapi_lists_every_route(client):
    document = client.get("/openapi/eventchain.json").get_json()
    operations = {(method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops}
    assert operations == {
        ("POST", f"{BASE}/register"), ("POST", f"{BASE}/login"),
        ("POST", f"{BASE}/refresh"), ("POST", f"{BASE}/logout"),
        ("GET", f"{BASE}/profile"), ("PUT", f"{BASE}/profile"),
        ("PUT", f"{BASE}/password"), ("GET", f"{BASE}/permissions"),
        ("POST", f"{BASE}/verify/send"), ("POST", f"{BASE}/verify/confirm"),
        ("POST", f"{BASE}/password/reset/request"),
        ("POST", f"{BASE}/password/reset/confirm"),
    }
    register_op = document["paths"][f"{BASE}/register"]["post"]
    assert "201" in register_op["responses"] and "429" in register_op["responses"]
    assert document["paths"][f"{BASE}/profile"]["get"]["security"] == [{"bearer": []}]
    schemas = document["components"]["schemas"]
    assert {"email", "password", "firstName", "lastName", "role"} \
        == set(schemas["RegisterBody"]["properties"])


# --- rate limits ---------------------------------------------------------------------------

def test_login_is_limited_to_five_a_minute_per_ip(client):
    data(register(client), 201)
    for remaining in range(4, -1, -1):
        response = login(client)
        data(response)
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert "X-RateLimit-Reset" in response.headers
    limited = login(client)
    error(limited, 429, "rate_limited")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Another address has its own budget.
    other = client.post(f"{BASE}/login", json={"email": "ada@example.com",
                                               "password": DEFAULT_PASSWORD},
                        environ_base={"REMOTE_ADDR": "192.0.2.9"})
    data(other)


def test_registration_is_limited_to_three_an_hour_per_ip(client):
    for n in range(3):
        response = register(client, email=f"user{n}@example.com")
        data(response, 201)
        assert response.headers["X-RateLimit-Limit"] == "3"
    limited = register(client, email="user4@example.com")
    error(limited, 429, "rate_limited")
    assert 3000 < int(limited.headers["Retry-After"]) <= 3600


def test_rate_limits_are_configurable(app_factory):
    client = app_factory(API_RATE_LIMITS={"eventchain.login": "2 per minute"}).test_client()
    assert login(client).headers["X-RateLimit-Limit"] == "2"
    login(client)
    error(login(client), 429, "rate_limited")
