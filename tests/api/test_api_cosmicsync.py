"""cosmicsync (docs/dialects/cosmicsync.md) at /: every endpoint this dialect serves."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from sqlalchemy import select

from app.core import api_logins, clients, rbac, tokens
from app.core.context import ClientInfo
from app.core.services import setting
from app.extensions import db
from app.models import AuditEvent, User, UserAppData
from tests.conftest import DEFAULT_PASSWORD

EMAIL = "ada@example.com"
# A short grace keeps the expiry arithmetic of these tests readable;
# test_refresh_works_with_the_default_grace covers the 7-day default.
GRACE = 3600


@pytest.fixture
def app(app_factory):
    return app_factory(API_EXPIRED_TOKEN_GRACE=GRACE)


@pytest.fixture
def app_id(app):
    with app.app_context():
        client, _secret = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        return client.client_id


@pytest.fixture
def other_app_id(app):
    with app.app_context():
        client, _secret = clients.create_client("Notes", ["https://notes.example/cb"])
        db.session.commit()
        return client.client_id


def register(client, app_id, email=EMAIL, **extra):
    body = {"email": email, "password": DEFAULT_PASSWORD, "username": "ada",
            "application_id": app_id} | extra
    return client.post("/auth/register", json=body)


def login(client, app_id, email=EMAIL, password=DEFAULT_PASSWORD):
    return client.post("/auth/login", json={"email": email, "password": password,
                                            "application_id": app_id})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def claims_of(token) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def token(client, app_id):
    assert register(client, app_id).status_code == 201
    return login(client, app_id).get_json()["token"]


def expired_copy(app, token, seconds_ago):
    """A token for the same session and client, expired `seconds_ago` seconds ago."""
    claims = claims_of(token)
    with app.app_context():
        forged, _ = tokens.issue_access_token(
            subject=claims["sub"], client_id=claims["client_id"], scope=claims["scope"],
            audience=claims["aud"], session_id=uuid.UUID(claims["sid"]),
            lifetime=-seconds_ago, extra_claims={"auth_time": claims["auth_time"]})
        return forged


# --- register and login ------------------------------------------------------------------------

def test_register_answers_201_with_the_user_id_and_remembers_the_application(
        client, app_id, query):
    response = register(client, app_id)
    assert response.status_code == 201
    body = response.get_json()
    assert body["message"] == "User registered successfully"
    assert uuid.UUID(body["user_id"])
    event = query(lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.event == "signup.application")))
    assert str(event.user_id) == body["user_id"]
    assert event.details["application_id"] == app_id


@pytest.mark.parametrize("body, field", [
    ({"password": DEFAULT_PASSWORD, "application_id": "APP"}, "email"),
    ({"email": EMAIL, "application_id": "APP"}, "password"),
    ({"email": EMAIL, "password": DEFAULT_PASSWORD}, "application_id"),
    ({"email": 5, "password": DEFAULT_PASSWORD, "application_id": "APP"}, "email"),
    ({"email": EMAIL, "password": DEFAULT_PASSWORD, "application_id": 7}, "application_id"),
    ({"email": EMAIL, "password": DEFAULT_PASSWORD, "application_id": "APP", "admin": True},
     "admin"),
    ({"email": EMAIL, "password": DEFAULT_PASSWORD, "application_id": "app_12345"},
     "application_id"),
    ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "application_id": "APP"},
     "email"),
    ({"email": EMAIL, "password": "short", "application_id": "APP"}, "password"),
])
def test_register_bad_input_is_400_naming_the_field(client, app_id, query, body, field):
    if body.get("application_id") == "APP":
        body = body | {"application_id": app_id}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert set(response.get_json()) == {"error", "message", "field"}
    assert query(lambda s: s.scalar(select(db.func.count()).select_from(User))) == 0


def test_register_twice_is_409(client, app_id):
    register(client, app_id)
    again = register(client, app_id, username="ada2")
    assert again.status_code == 409 and again.get_json()["error"] == "email_taken"


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/users/me/data"])
@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "", '"text"'])
def test_malformed_bodies_are_400_in_the_envelope(client, token, path, data):
    response = client.post(path, data=data, headers={"Content-Type": "application/json",
                                                     **bearer(token)})
    assert response.status_code == 400
    assert response.get_json() == {"error": "validation", "message": response.get_json()[
        "message"], "field": "body"}


def test_login_returns_only_token_and_expires_in(client, app_id, token):
    body = login(client, app_id).get_json()
    assert set(body) == {"token", "expires_in"}
    assert body["expires_in"] == 3600
    claims = claims_of(body["token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["client_id"] == api_logins.api_client_id("cosmicsync")


def test_login_refuses_a_wrong_password_and_an_unknown_application(client, app_id, token):
    wrong = login(client, app_id, password="not the password at all")
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_credentials"
    unknown = login(client, "no-such-app")
    assert unknown.status_code == 400 and unknown.get_json()["field"] == "application_id"
    missing = client.post("/auth/login", json={"email": EMAIL, "password": DEFAULT_PASSWORD})
    assert missing.status_code == 400 and missing.get_json()["field"] == "application_id"


# --- refresh with an expired token -------------------------------------------------------------

def test_refresh_accepts_a_token_expired_within_the_grace(app, client, token):
    expired = expired_copy(app, token, 10)
    assert client.get("/users/me", headers=bearer(expired)).status_code == 401
    response = client.post("/auth/refresh", headers=bearer(expired))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"token", "expires_in"} and body["expires_in"] == 3600
    assert claims_of(body["token"])["sid"] == claims_of(token)["sid"]
    assert client.get("/users/me", headers=bearer(body["token"])).status_code == 200


def test_refresh_refuses_a_token_expired_beyond_the_grace(app, client, token):
    with app.app_context():
        assert setting("API_EXPIRED_TOKEN_GRACE") == GRACE
    expired = expired_copy(app, token, GRACE + 60)
    response = client.post("/auth/refresh", headers=bearer(expired))
    assert response.status_code == 401 and response.get_json()["error"] == "token_expired"


def test_refresh_works_with_the_default_grace(app_factory):
    app = app_factory()
    client = app.test_client()
    with app.app_context():
        app_client, _ = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        application_id = app_client.client_id
    register(client, application_id)
    token = login(client, application_id).get_json()["token"]
    stale = expired_copy(app, token, 10)
    response = client.post("/auth/refresh", headers=bearer(stale))
    assert response.status_code == 200
    # A stale token buys one fresh token, not a stream of them.
    again = client.post("/auth/refresh", headers=bearer(stale))
    assert again.status_code == 401


def test_refresh_honours_a_shorter_configured_grace(app_factory):
    app = app_factory(API_EXPIRED_TOKEN_GRACE=60)
    client = app.test_client()
    with app.app_context():
        app_client, _ = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        application_id = app_client.client_id
    register(client, application_id)
    token = login(client, application_id).get_json()["token"]
    assert client.post("/auth/refresh",
                       headers=bearer(expired_copy(app, token, 30))).status_code == 200
    assert client.post("/auth/refresh",
                       headers=bearer(expired_copy(app, token, 120))).status_code == 401


def test_refresh_refuses_a_token_whose_session_ended(app, client, token):
    expired = expired_copy(app, token, 10)
    # The hosted logout or any other dialect ending the session ends the refresh too.
    with app.app_context():
        principal = api_logins.authenticate(token)
        api_logins.logout(principal, client=ClientInfo())
        db.session.commit()
    response = client.post("/auth/refresh", headers=bearer(expired))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"


def test_refresh_refuses_another_dialects_token(app, client, token):
    claims = claims_of(token)
    with app.app_context():
        other, _ = tokens.issue_access_token(
            subject=claims["sub"], client_id=api_logins.api_client_id("modernauth"),
            scope=claims["scope"], audience=claims["aud"], session_id=uuid.UUID(claims["sid"]),
            lifetime=-10)
    assert client.post("/auth/refresh", headers=bearer(other)).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"},
                                     {"Authorization": "Basic abc"}])
def test_refresh_without_a_good_token_is_401(client, headers):
    response = client.post("/auth/refresh", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] in {"unauthenticated", "invalid_token"}


# --- profile -----------------------------------------------------------------------------------

def test_profile_get_and_put(client, token):
    me = client.get("/users/me", headers=bearer(token))
    assert me.status_code == 200
    assert set(me.get_json()) == {"id", "email", "username", "first_name", "last_name",
                                  "phone", "email_verified", "created_at"}
    assert me.get_json()["email"] == EMAIL and me.get_json()["username"] == "ada"
    updated = client.put("/users/me", headers=bearer(token),
                         json={"first_name": "Ada", "last_name": "Lovelace",
                               "phone": "+44 20 7946 0000", "username": "countess"})
    assert updated.status_code == 200
    assert updated.get_json()["first_name"] == "Ada"
    assert updated.get_json()["username"] == "countess"
    again = client.get("/users/me", headers=bearer(token)).get_json()
    assert again["last_name"] == "Lovelace" and again["phone"] == "+44 20 7946 0000"
    # Absent fields are left alone.
    client.put("/users/me", headers=bearer(token), json={"last_name": "King"})
    assert client.get("/users/me", headers=bearer(token)).get_json()["first_name"] == "Ada"


@pytest.mark.parametrize("body, field", [
    ({"email": "new@example.com"}, "email"),
    ({"first_name": 5}, "first_name"),
    ({"phone": "call me"}, "phone"),
    ({"username": "x"}, "username"),
])
def test_profile_put_bad_input_is_400_naming_the_field(client, token, body, field):
    response = client.put("/users/me", headers=bearer(token), json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_profile_put_with_a_taken_username_is_409(client, app_id, token, make_user):
    make_user(username="taken")
    response = client.put("/users/me", headers=bearer(token), json={"username": "taken"})
    assert response.status_code == 409 and response.get_json()["error"] == "username_taken"


@pytest.mark.parametrize("method, path", [
    ("get", "/users/me"), ("put", "/users/me"), ("post", "/users/me/data"),
    ("get", "/users/me/data/theme"), ("get", "/users/me/permissions?action=a&resource=b"),
    ("post", "/users/00000000-0000-4000-8000-000000000001/roles"),
])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not.a.jwt"}])
def test_protected_endpoints_without_a_good_token_are_401(client, method, path, headers):
    response = getattr(client, method)(path, headers=headers, json={})
    assert response.status_code == 401
    assert response.get_json()["error"] in {"unauthenticated", "invalid_token"}


def test_an_expired_token_is_refused_outside_refresh(app, client, token):
    response = client.get("/users/me", headers=bearer(expired_copy(app, token, 5)))
    assert response.status_code == 401 and response.get_json()["error"] == "token_expired"


# --- custom data -------------------------------------------------------------------------------

def test_data_is_stored_per_user_and_application(client, app_id, other_app_id, token):
    value = {"theme": "dark", "notifications": True}
    stored = client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                         json={"key": "preferences", "value": value})
    assert stored.status_code == 200
    assert stored.get_json() == {"message": "Custom data stored successfully"}
    got = client.get(f"/users/me/data/preferences?application_id={app_id}",
                     headers=bearer(token))
    assert got.status_code == 200 and got.get_json() == value
    # Another application sees nothing under the same key.
    other = client.get(f"/users/me/data/preferences?application_id={other_app_id}",
                       headers=bearer(token))
    assert other.status_code == 404 and other.get_json()["error"] == "not_found"
    # The body may name the application instead; a second write replaces the value.
    client.post("/users/me/data", headers=bearer(token),
                json={"key": "preferences", "value": [1, "two"], "application_id": app_id})
    assert client.get(f"/users/me/data/preferences?application_id={app_id}",
                      headers=bearer(token)).get_json() == [1, "two"]


def test_data_of_another_user_is_not_visible(client, app_id, token, make_user):
    client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                json={"key": "secret", "value": "mine"})
    other = make_user(email="bob@example.com")
    bob = login(client, app_id, email=other["email"]).get_json()["token"]
    response = client.get(f"/users/me/data/secret?application_id={app_id}", headers=bearer(bob))
    assert response.status_code == 404


def test_scalar_values_round_trip(client, app_id, token):
    for key, value in (("n", 42), ("s", "hello"), ("b", False), ("f", 1.5)):
        client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                    json={"key": key, "value": value})
        got = client.get(f"/users/me/data/{key}?application_id={app_id}", headers=bearer(token))
        assert got.status_code == 200 and got.get_json() == value


@pytest.mark.parametrize("body, field", [
    ({"value": 1}, "key"),
    ({"key": "k"}, "value"),
    ({"key": 5, "value": 1}, "key"),
    ({"key": "has space", "value": 1}, "key"),
    ({"key": "k" * 65, "value": 1}, "key"),
    ({"key": "k", "value": None}, "value"),
    ({"key": "k", "value": "x" * (16 * 1024 + 1)}, "value"),
    ({"key": "k", "value": {"a": ["x" * 4000] * 5}}, "value"),
    ({"key": "k", "value": 1, "extra": True}, "extra"),
    ({"key": "k", "value": 1, "application_id": "nope"}, "application_id"),
])
def test_data_bad_input_is_400_naming_the_field(client, app_id, token, body, field):
    response = client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                           json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field


def test_data_refuses_deep_nesting_and_nan(client, app_id, token):
    deep = "[" * 40 + "]" * 40
    response = client.post(f"/users/me/data?application_id={app_id}", headers={
        **bearer(token), "Content-Type": "application/json"},
        data=json.dumps({"key": "k"})[:-1] + f', "value": {deep}}}')
    assert response.status_code == 400 and response.get_json()["field"] == "value"
    response = client.post(f"/users/me/data?application_id={app_id}", headers={
        **bearer(token), "Content-Type": "application/json"}, data='{"key": "k", "value": NaN}')
    assert response.status_code == 400 and response.get_json()["field"] == "value"


def test_the_documented_data_calls_work_as_written(client, app_id, other_app_id, token):
    # The document's own calls: no application_id anywhere, only the bearer token.
    value = {"theme": "dark", "notifications": True}
    stored = client.post("/users/me/data", headers=bearer(token),
                         json={"key": "preferences", "value": value})
    assert stored.status_code == 200, stored.get_json()
    assert stored.get_json() == {"message": "Custom data stored successfully"}
    got = client.get("/users/me/data/preferences", headers=bearer(token))
    assert got.status_code == 200 and got.get_json() == value
    # Kept under the application the login named, and nowhere else.
    assert client.get(f"/users/me/data/preferences?application_id={app_id}",
                      headers=bearer(token)).get_json() == value
    assert client.get(f"/users/me/data/preferences?application_id={other_app_id}",
                      headers=bearer(token)).status_code == 404
    # A token refreshed from it keeps the login's application.
    fresh = client.post("/auth/refresh", headers=bearer(token)).get_json()["token"]
    assert client.get("/users/me/data/preferences", headers=bearer(fresh)).get_json() == value


def test_an_explicit_application_still_selects_another(client, app_id, other_app_id, token):
    client.post("/users/me/data", headers=bearer(token), json={
        "key": "preferences", "value": "other", "application_id": other_app_id})
    assert client.get("/users/me/data/preferences", headers=bearer(token)).status_code == 404
    assert client.get(f"/users/me/data/preferences?application_id={other_app_id}",
                      headers=bearer(token)).get_json() == "other"


def test_a_login_naming_no_application_uses_the_users_own_space(client, app_id, token):
    # modernauth's login names no application: its token reads and writes the user's own
    # space, which no application's data shares.
    other_dialect = client.post("/v1/auth/login", json={"email": EMAIL,
                                                        "password": DEFAULT_PASSWORD})
    own = other_dialect.get_json()["tokens"]["access_token"]
    for value in ("first", "second"):
        stored = client.post("/users/me/data", headers=bearer(own),
                             json={"key": "preferences", "value": value})
        assert stored.status_code == 200, stored.get_json()
    assert client.get("/users/me/data/preferences", headers=bearer(own)).get_json() == "second"
    assert client.get("/users/me/data/preferences", headers=bearer(token)).status_code == 404
    assert client.get(f"/users/me/data/preferences?application_id={app_id}",
                      headers=bearer(own)).status_code == 404
    with client.application.app_context():
        rows = db.session.scalars(select(UserAppData)).all()
        assert [(row.application_id, row.value) for row in rows] == [(None, "second")]


def test_data_needs_a_known_application(client, app_id, other_app_id, token):
    unknown = client.get("/users/me/data/k?application_id=nope", headers=bearer(token))
    assert unknown.status_code == 400 and unknown.get_json()["field"] == "application_id"
    clash = client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                        json={"key": "k", "value": 1, "application_id": other_app_id})
    assert clash.status_code == 400 and clash.get_json()["field"] == "application_id"


def test_data_get_of_a_missing_key_is_404_and_a_bad_key_400(client, app_id, token):
    missing = client.get(f"/users/me/data/nothing?application_id={app_id}",
                         headers=bearer(token))
    assert missing.status_code == 404 and missing.get_json()["field"] == "key"
    bad = client.get(f"/users/me/data/{'k' * 65}?application_id={app_id}",
                     headers=bearer(token))
    assert bad.status_code == 400 and bad.get_json()["field"] == "key"


def test_data_keys_per_application_are_bounded(app, client, app_id, token):
    from app.core import app_data

    with app.app_context():
        user_id = uuid.UUID(claims_of(token)["sub"])
        for n in range(app_data.KEYS_MAX):
            db.session.add(UserAppData(user_id=user_id, application_id=app_id,
                                       key=f"k{n}", value=n))
        db.session.commit()
    over = client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                       json={"key": "one-more", "value": 1})
    assert over.status_code == 400 and over.get_json()["field"] == "key"
    replace = client.post(f"/users/me/data?application_id={app_id}", headers=bearer(token),
                          json={"key": "k0", "value": "still fine"})
    assert replace.status_code == 200


# --- roles and permissions ---------------------------------------------------------------------

@pytest.fixture
def admin_token(client, app_id, make_user):
    admin = make_user(email="root@example.com", roles=("admin",))
    return login(client, app_id, email=admin["email"]).get_json()["token"]


def test_an_admin_assigns_a_role_within_an_application(app, client, app_id, other_app_id,
                                                         token, admin_token):
    user_id = claims_of(token)["sub"]
    check = f"/users/me/permissions?action=write&resource=Task&application_id={app_id}"
    assert client.get(check, headers=bearer(token)).get_json() == {"permitted": False}
    response = client.post(f"/users/{user_id}/roles", headers=bearer(admin_token),
                           json={"role": "editor", "application_id": app_id})
    assert response.status_code == 200
    assert response.get_json() == {"message": "Role assigned successfully"}
    assert client.get(check, headers=bearer(token)).get_json() == {"permitted": True}
    # Only within that application: not globally, not in another one.
    assert client.get("/users/me/permissions?action=write&resource=Task",
                      headers=bearer(token)).get_json() == {"permitted": False}
    assert client.get(f"/users/me/permissions?action=write&resource=Task"
                      f"&application_id={other_app_id}",
                      headers=bearer(token)).get_json() == {"permitted": False}
    # Assigning again is harmless.
    assert client.post(f"/users/{user_id}/roles", headers=bearer(admin_token),
                       json={"role": "editor", "application_id": app_id}).status_code == 200


def test_a_global_role_needs_no_application(app, client, token, admin_token):
    user_id = claims_of(token)["sub"]
    response = client.post(f"/users/{user_id}/roles", headers=bearer(admin_token),
                           json={"role": "organizer"})
    assert response.status_code == 200
    assert client.get("/users/me/permissions?action=write&resource=events",
                      headers=bearer(token)).get_json() == {"permitted": True}


def test_a_non_admin_cannot_assign_roles(client, app_id, token, query):
    user_id = claims_of(token)["sub"]
    response = client.post(f"/users/{user_id}/roles", headers=bearer(token),
                           json={"role": "admin", "application_id": app_id})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert query(lambda s: rbac.role_names(
        s.get(User, uuid.UUID(user_id)), app_id)) == []


@pytest.mark.parametrize("target, body, status, field", [
    ("unknown", {"role": "editor"}, 404, "user_id"),
    ("not-a-uuid", {"role": "editor"}, 404, "user_id"),
    ("user", {"role": "emperor"}, 400, "role"),
    ("user", {"role": "editor", "application_id": "nope"}, 400, "application_id"),
    ("user", {}, 400, "role"),
    ("user", {"role": ["editor"]}, 400, "role"),
    ("user", {"role": "editor", "scope": "all"}, 400, "scope"),
])
def test_role_assignment_errors(client, token, admin_token, target, body, status, field):
    user_id = {"unknown": str(uuid.uuid4()), "user": claims_of(token)["sub"]}.get(target, target)
    response = client.post(f"/users/{user_id}/roles", headers=bearer(admin_token), json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field


@pytest.mark.parametrize("query_string, field", [
    ("resource=Task", "action"),
    ("action=read", "resource"),
    ("action=&resource=Task", "action"),
    ("action=read&resource=Task&application_id=nope", "application_id"),
    (f"action={'a' * 65}&resource=Task", "action"),
])
def test_permission_check_bad_query_is_400(client, token, query_string, field):
    response = client.get(f"/users/me/permissions?{query_string}", headers=bearer(token))
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_an_admin_is_permitted_everything(client, admin_token):
    response = client.get("/users/me/permissions?action=delete&resource=Project",
                          headers=bearer(admin_token))
    assert response.get_json() == {"permitted": True}


# --- the mount -----------------------------------------------------------------------------------

def test_unknown_paths_and_wrong_methods_answer_in_the_envelope(client):
    missing = client.get("/auth/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    missing = client.get("/users/me/data")
    assert missing.status_code == 405 and missing.get_json()["error"] == "method_not_allowed"
    wrong = client.get("/auth/login")
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    wrong = client.delete("/users/me")
    assert wrong.status_code == 405 and set(wrong.get_json()) == {"error", "message"}


def test_logout_elsewhere_makes_the_token_fail_at_once(app, client, token):
    with app.app_context():
        api_logins.revoke_all_sessions(api_logins.authenticate(token).user,
                                       client=ClientInfo())
        db.session.commit()
    response = client.get("/users/me", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"


def test_openapi_lists_every_route(client):
    document = client.get("/openapi/cosmicsync.json").get_json()
    listed = {(method.upper(), path) for path, operations in document["paths"].items()
              for method in operations}
    assert listed == {
        ("POST", "/auth/register"), ("POST", "/auth/login"), ("POST", "/auth/refresh"),
        ("GET", "/users/me"), ("PUT", "/users/me"), ("POST", "/users/me/data"),
        ("GET", "/users/me/data/{key}"), ("POST", "/users/{user_id}/roles"),
        ("GET", "/users/me/permissions"), ("POST", "/auth/mfa/enable"),
        ("POST", "/auth/mfa/verify"),
    }
    assert document["paths"]["/auth/register"]["post"]["responses"]["201"]


def test_login_rate_limit(app_factory):
    app = app_factory(API_RATE_LIMITS={"cosmicsync.login": "1 per 15 minutes"})
    client = app.test_client()
    login(client, "whatever")
    second = login(client, "whatever")
    assert second.status_code == 429 and second.get_json()["error"] == "rate_limited"


def test_login_and_refresh_store_no_refresh_token_nobody_could_use(client, app_id, query):
    from app.models import RefreshToken

    register(client, app_id)
    token = login(client, app_id).get_json()["token"]
    assert client.post("/auth/refresh", headers=bearer(token)).status_code == 200
    assert query(lambda s: s.scalars(select(RefreshToken)).all()) == []
