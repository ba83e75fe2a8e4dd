"""apiauth (docs/dialects/apiauth.md) at /api/auth: every endpoint this dialect serves."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from app.models import User
from tests.conftest import DEFAULT_PASSWORD

BASE = "/api/auth"
EMAIL = "test@example.com"
THIRTY_DAYS = 30 * 24 * 3600


def register(client, username="testuser", email=EMAIL, headers=None, **extra):
    body = {"username": username, "email": email, "password": DEFAULT_PASSWORD,
            "passwordConfirm": DEFAULT_PASSWORD} | extra
    return client.post(f"{BASE}/register", json=body, headers=headers or {})


def login(client, email=EMAIL, password=DEFAULT_PASSWORD):
    return client.post(f"{BASE}/login", json={"email": email, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def jwt_cookie(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie")
               if value.startswith("jwt=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def claims_of(token) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def token(client):
    assert register(client).status_code == 201
    return login(client).get_json()["token"]


@pytest.fixture
def admin_token(client, make_user):
    admin = make_user(email="root@example.com", username="root", roles=("admin",))
    return login(client, email=admin["email"]).get_json()["token"]


# --- register ------------------------------------------------------------------------------------

def test_register_answers_201_with_token_user_and_cookie(client):
    response = register(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "success" and body["token"]
    user = body["data"]["user"]
    assert set(user) == {"_id", "username", "email", "role", "isActive", "createdAt"}
    assert user["username"] == "testuser" and user["email"] == EMAIL
    assert user["role"] == "sub-admin" and user["isActive"] is True
    assert user["createdAt"].endswith("Z")
    assert claims_of(body["token"])["sub"] == user["_id"]
    assert jwt_cookie(response).startswith(f"jwt={body['token']};")
    me = client.get(f"{BASE}/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json()["data"]["user"]["_id"] == user["_id"]


def test_the_token_lives_thirty_days_by_default(client):
    token = register(client).get_json()["token"]
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == THIRTY_DAYS


def test_the_cookie_is_httponly_lax_scoped_to_the_mount_and_lives_as_long_as_the_token(client):
    cookie = jwt_cookie(register(client))
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert attributes["path"] == f"Path={BASE}"
    assert attributes["max-age"] == f"Max-Age={THIRTY_DAYS}"
    assert "secure" not in attributes  # the test issuer is http://localhost


def test_the_cookie_is_secure_when_the_issuer_is_https(app_factory):
    client = app_factory(ISSUER="https://id.example.com").test_client()
    response = register(client)
    assert response.status_code == 201
    assert "secure" in jwt_cookie(response).lower()


def test_the_cookie_follows_the_mount(app_factory):
    client = app_factory(API_MOUNTS="apiauth=/auth/v2").test_client()
    response = client.post("/auth/v2/register", json={
        "username": "testuser", "email": EMAIL, "password": DEFAULT_PASSWORD,
        "passwordConfirm": DEFAULT_PASSWORD})
    assert response.status_code == 201
    assert "Path=/auth/v2" in jwt_cookie(response)


@pytest.mark.parametrize("body, field", [
    ({"email": EMAIL, "password": DEFAULT_PASSWORD, "passwordConfirm": DEFAULT_PASSWORD},
     "username"),
    ({"username": "testuser", "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "email"),
    ({"username": "testuser", "email": EMAIL, "passwordConfirm": DEFAULT_PASSWORD},
     "password"),
    ({"username": "testuser", "email": EMAIL, "password": DEFAULT_PASSWORD},
     "passwordConfirm"),
    ({"username": "testuser", "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": "something else entirely"}, "passwordConfirm"),
    ({"username": "ab", "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "username"),
    ({"username": "a" * 31, "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "username"),
    ({"username": "bad name!", "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "username"),
    ({"username": 12345, "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "username"),
    ({"username": "testuser", "email": "nope", "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD}, "email"),
    ({"username": "testuser", "email": EMAIL, "password": "short",
      "passwordConfirm": "short"}, "password"),
    ({"username": "testuser", "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD, "role": "superuser"}, "role"),
    ({"username": "testuser", "email": EMAIL, "password": DEFAULT_PASSWORD,
      "passwordConfirm": DEFAULT_PASSWORD, "isActive": False}, "isActive"),
])
def test_register_bad_input_is_400_naming_the_field(client, query, body, field):
    response = client.post(f"{BASE}/register", json=body)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["status"] == "fail" and body["field"] == field and body["message"]
    assert "Set-Cookie" not in response.headers
    assert query(lambda s: s.scalar(select(func.count()).select_from(User))) == 0


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "", "null"])
@pytest.mark.parametrize("path", ["/register", "/login"])
def test_malformed_bodies_are_400_in_the_envelope(client, path, data):
    response = client.post(f"{BASE}{path}", data=data,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "fail" and body["field"] == "body"


def test_taken_email_or_username_is_409(client):
    register(client)
    same_email = register(client, username="another")
    assert same_email.status_code == 409 and same_email.get_json()["code"] == "email_taken"
    same_name = register(client, email="other@example.com")
    assert same_name.status_code == 409 and same_name.get_json()["code"] == "username_taken"
    assert same_name.get_json()["status"] == "fail"


def test_registering_as_admin_without_an_admins_token_is_403(client, query, token):
    anonymous = register(client, username="mallory", email="m@example.com", role="admin")
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"status": "fail", "code": "forbidden", "field": "role",
                                    "message": anonymous.get_json()["message"]}
    # A sub-admin's token is no better, and neither is a bad token or the cookie.
    for headers in (bearer(token), bearer("not.a.token")):
        response = register(client, username="mallory", email="m@example.com",
                            role="admin", headers=headers)
        assert response.status_code == 403
    client.set_cookie("jwt", token, path=BASE)
    assert register(client, username="mallory", email="m@example.com",
                    role="admin").status_code == 403
    assert query(lambda s: s.scalar(select(func.count()).select_from(User).where(
        User.email == "m@example.com"))) == 0


def test_an_admin_may_register_an_admin(client, admin_token):
    response = register(client, username="second", email="second@example.com", role="admin",
                        headers=bearer(admin_token))
    assert response.status_code == 201
    assert response.get_json()["data"]["user"]["role"] == "admin"


def test_sub_admin_may_be_asked_for_explicitly(client):
    response = register(client, role="sub-admin")
    assert response.status_code == 201
    assert response.get_json()["data"]["user"]["role"] == "sub-admin"


# --- login, me, logout ---------------------------------------------------------------------------

def test_login_returns_token_user_and_cookie(client, token):
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "success" and body["token"]
    assert body["data"]["user"]["username"] == "testuser"
    assert body["data"]["user"]["role"] == "sub-admin"
    assert jwt_cookie(response).startswith(f"jwt={body['token']};")


def test_login_refuses_a_wrong_password(client, token):
    response = login(client, password="definitely not it")
    assert response.status_code == 401
    assert response.get_json()["status"] == "fail"
    assert response.get_json()["code"] == "invalid_credentials"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("body, field", [
    ({"password": DEFAULT_PASSWORD}, "email"),
    ({"email": EMAIL}, "password"),
    ({"email": EMAIL, "password": 123}, "password"),
    ({"email": EMAIL, "password": DEFAULT_PASSWORD, "remember": True}, "remember"),
])
def test_login_bad_input_is_400_naming_the_field(client, body, field):
    response = client.post(f"{BASE}/login", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_me_with_the_header_or_the_cookie(client):
    registered = register(client)
    token = registered.get_json()["token"]
    by_header = client.get(f"{BASE}/me", headers=bearer(token))
    assert by_header.status_code == 200
    assert by_header.get_json() == {"status": "success",
                                    "data": {"user": registered.get_json()["data"]["user"]}}
    # The test client kept the cookie register set.
    by_cookie = client.get(f"{BASE}/me")
    assert by_cookie.status_code == 200
    assert by_cookie.get_json()["data"]["user"]["email"] == EMAIL


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not.a.jwt"},
                                     {"Authorization": "Token abc"}])
@pytest.mark.parametrize("method, path", [("get", "/me"), ("post", "/logout")])
def test_me_and_logout_without_a_good_token_are_401(client, headers, method, path):
    response = getattr(client, method)(f"{BASE}{path}", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["status"] == "fail"
    assert response.get_json()["code"] in {"unauthenticated", "invalid_token"}


def test_a_bad_cookie_is_401(client):
    client.set_cookie("jwt", "garbage", path=BASE)
    assert client.get(f"{BASE}/me").status_code == 401


def test_logout_ends_the_session_and_clears_the_cookie(client, token):
    response = client.post(f"{BASE}/logout", headers=bearer(token))
    assert response.status_code == 200 and response.get_json() == {"status": "success"}
    cleared = jwt_cookie(response)
    assert cleared.startswith("jwt=;") and f"Path={BASE}" in cleared
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared
    after = client.get(f"{BASE}/me", headers=bearer(token))
    assert after.status_code == 401 and after.get_json()["code"] == "invalid_token"
    # Other sign-ins of the same user are untouched.
    assert client.get(f"{BASE}/me", headers=bearer(login(client).get_json()["token"])
                      ).status_code == 200


def test_logout_with_the_cookie_alone(client):
    token = register(client).get_json()["token"]
    response = client.post(f"{BASE}/logout")
    assert response.status_code == 200
    assert client.get(f"{BASE}/me", headers=bearer(token)).status_code == 401
    # The cookie is gone from the client too.
    assert client.get(f"{BASE}/me").get_json()["code"] == "unauthenticated"


def test_a_user_of_another_dialect_has_a_null_role(client, make_user):
    user = make_user(email="plain@example.com")
    response = login(client, email=user["email"])
    assert response.status_code == 200 and response.get_json()["data"]["user"]["role"] is None


# --- the mount -----------------------------------------------------------------------------------

def test_unknown_paths_and_wrong_methods_answer_in_the_envelope(client):
    missing = client.get(f"{BASE}/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json() == {"status": "fail", "code": "not_found",
                                  "message": "No such endpoint."}
    wrong = client.get(f"{BASE}/login")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    assert client.post(f"{BASE}/reset-password/abc", json={}).status_code == 405


def test_openapi_lists_every_route(client):
    document = client.get("/openapi/apiauth.json").get_json()
    listed = {(method.upper(), path) for path, operations in document["paths"].items()
              for method in operations}
    assert listed == {("POST", f"{BASE}/register"), ("POST", f"{BASE}/login"),
                      ("GET", f"{BASE}/me"), ("POST", f"{BASE}/logout"),
                      ("POST", f"{BASE}/forgot-password"),
                      ("PATCH", f"{BASE}/reset-password/{{token}}")}
    user = document["components"]["schemas"]["UserOut"]
    assert {"_id", "isActive", "createdAt"} <= set(user["properties"])
    register_schema = document["components"]["schemas"]["RegisterBody"]
    assert "passwordConfirm" in register_schema["required"]


def test_register_rate_limit(app_factory):
    client = app_factory(API_RATE_LIMITS={"apiauth.register": "1 per hour"}).test_client()
    register(client)
    second = register(client, username="other", email="other@example.com")
    assert second.status_code == 429 and second.get_json()["status"] == "fail"


def test_a_user_registered_here_logs_in_through_another_dialect(client, query, token):
    response = client.post("/v1/auth/login", json={"email": EMAIL, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert query(lambda s: s.scalar(select(func.count()).select_from(User))) == 1
