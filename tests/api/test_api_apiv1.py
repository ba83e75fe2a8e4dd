"""apiv1 (docs/dialects/apiv1.md) at /api/v1/auth: every endpoint this dialect serves."""

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, AuthSession, RefreshToken, User
from tests.conftest import DEFAULT_PASSWORD

BASE = "/api/v1/auth"
SUCCESS_KEYS = {"message", "data", "status"}
ERROR_KEYS = {"message", "error", "status"}
SIGN_IN_KEYS = {"user", "accessToken", "refreshToken", "expiresIn"}
USER_KEYS = {"id", "email", "firstName", "lastName", "phoneNumber", "isEmailVerified",
             "isPhoneVerified",
             "isActive", "createdAt", "updatedAt"}
NEW_PASSWORD = "a completely new phrase"


def register(client, email="ada@example.com", **extra):
    return client.post(f"{BASE}/register", json={"email": email, "password": DEFAULT_PASSWORD,
                                                 **extra})


def login(client, email="ada@example.com", password=DEFAULT_PASSWORD):
    return client.post(f"{BASE}/login", json={"email": email, "password": password})


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def profile(client, tokens):
    return client.get(f"{BASE}/profile", headers=bearer(tokens))


def assert_error(response, status, error=None, field=None):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["status"] == status
    if error is not None:
        assert body["error"] == error, body
    if field is not None:
        assert body["field"] == field, body
    assert set(body) == ERROR_KEYS | ({"field"} if "field" in body else set())
    return body


def assert_ok(response, status=200):
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == SUCCESS_KEYS and body["status"] == status
    return body["data"]


@pytest.fixture
def tokens(client):
    register(client, firstName="Ada", lastName="Lovelace", phoneNumber="+1234567890")
    return assert_ok(login(client))


@pytest.fixture
def admin_tokens(app, client, make_user):
    from app.core import accounts, rbac
    from app.extensions import db
    from app.models import Role

    user = make_user(email="root@example.com")
    with app.app_context():
        # The migration seeds the role, but conftest's PostgreSQL clean-up truncates every
        # table, seeds included: put it back when it is gone.
        if db.session.scalar(select(Role).where(Role.name == "admin")) is None:
            db.session.add(Role(name="admin", description="Administrator", is_system=True))
            db.session.flush()
        rbac.assign_role(accounts.get_user(user["id"]), "admin")
        db.session.commit()
    return assert_ok(login(client, "root@example.com"))


# --- golden shapes -----------------------------------------------------------------------------

def test_register_answers_201_in_the_success_envelope_with_camel_case_tokens(client):
    response = register(client, firstName="Ada", lastName="Lovelace",
                        phoneNumber="+1234567890")
    body = response.get_json()
    assert response.status_code == 201
    assert set(body) == SUCCESS_KEYS and body["status"] == 201
    assert body["message"] == "Registration successful."
    data = body["data"]
    assert set(data) == SIGN_IN_KEYS
    assert set(data["user"]) == USER_KEYS
    assert data["user"]["email"] == "ada@example.com"
    assert data["user"]["firstName"] == "Ada" and data["user"]["phoneNumber"] == "+1234567890"
    assert data["user"]["isEmailVerified"] is False and data["user"]["isActive"] is True
    assert data["refreshToken"].startswith("rt_") and data["expiresIn"] == 900
    # Registration signed the person in: the token works.
    assert assert_ok(profile(client, data))["email"] == "ada@example.com"


def test_error_envelope_has_exactly_message_error_status(client):
    response = login(client, "nobody@example.com", "wrong password here")
    body = response.get_json()
    assert response.status_code == 401
    assert set(body) == ERROR_KEYS
    assert body == {"message": "Incorrect email or password.", "error": "invalid_credentials",
                    "status": 401}


def test_validation_error_adds_the_field_in_the_documents_spelling(client):
    response = register(client, phoneNumber="not a phone")
    body = assert_error(response, 400, "validation", "phoneNumber")
    assert set(body) == ERROR_KEYS | {"field"}


# --- register and login ------------------------------------------------------------------------

def test_register_twice_is_409(client):
    register(client)
    assert_error(register(client), 409, "email_taken", "email")


@pytest.mark.parametrize("body, field", [
    ({"password": DEFAULT_PASSWORD}, "email"),
    ({"email": "ada@example.com"}, "password"),
    ({"email": 5, "password": DEFAULT_PASSWORD}, "email"),
    ({"email": "ada@example.com", "password": DEFAULT_PASSWORD, "firstName": 7}, "firstName"),
    ({"email": "ada@example.com", "password": DEFAULT_PASSWORD, "role": "admin"}, "role"),
    ({"email": "ada@example.com", "password": "short"}, "password"),
])
def test_register_bad_input_names_the_field(client, body, field):
    assert_error(client.post(f"{BASE}/register", json=body), 400, field=field)


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "", "null"])
def test_malformed_bodies_are_400_in_the_envelope(client, data):
    response = client.post(f"{BASE}/login", data=data,
                           headers={"Content-Type": "application/json"})
    assert_error(response, 400, "validation", "body")


def test_login_returns_user_and_tokens(client, tokens):
    assert set(tokens) == SIGN_IN_KEYS
    assert tokens["user"]["lastName"] == "Lovelace"


def test_login_wrong_password_is_401(client, tokens):
    assert_error(login(client, password="not the password"), 401, "invalid_credentials")


@pytest.mark.parametrize("body, field", [
    ({"email": "ada@example.com"}, "password"),
    ({"email": "ada@example.com", "password": 12345678}, "password"),
    ({"email": "ada@example.com", "password": DEFAULT_PASSWORD, "remember": True}, "remember"),
])
def test_login_bad_input_names_the_field(client, body, field):
    assert_error(client.post(f"{BASE}/login", json=body), 400, "validation", field)


# --- logout and refresh ------------------------------------------------------------------------

def test_logout_with_the_refresh_token_ends_the_session_at_once(client, tokens):
    response = client.post(f"{BASE}/logout", json={"refreshToken": tokens["refreshToken"]})
    assert assert_ok(response) is None
    assert_error(profile(client, tokens), 401, "invalid_token")
    assert_error(client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]}),
                 401, "invalid_grant")


def test_logout_with_only_a_bearer_token(client, tokens):
    assert_ok(client.post(f"{BASE}/logout", headers=bearer(tokens)))
    assert_error(profile(client, tokens), 401, "invalid_token")


def test_logout_with_a_stale_bearer_still_honours_the_refresh_token(client, tokens):
    response = client.post(f"{BASE}/logout", json={"refreshToken": tokens["refreshToken"]},
                           headers={"Authorization": "Bearer garbage"})
    assert_ok(response)
    assert_error(profile(client, tokens), 401)


@pytest.mark.parametrize("kwargs, status, field", [
    ({}, 400, "refreshToken"),
    ({"json": {"refreshToken": "rt_not-a-real-token"}}, 401, "refreshToken"),
    ({"json": {"refreshToken": 5}}, 400, "refreshToken"),
    ({"headers": {"Authorization": "Bearer garbage"}}, 401, None),
])
def test_logout_bad_input(client, tokens, kwargs, status, field):
    assert_error(client.post(f"{BASE}/logout", **kwargs), status, field=field)
    assert_ok(profile(client, tokens))


def test_refresh_rotates_and_reuse_revokes_the_family(client, tokens):
    first = client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]})
    new = assert_ok(first)
    assert set(new) == SIGN_IN_KEYS
    assert new["refreshToken"] != tokens["refreshToken"]
    assert assert_ok(profile(client, new))["email"] == "ada@example.com"
    replay = client.post(f"{BASE}/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert "reuse" in assert_error(replay, 401, "invalid_grant")["message"]
    # The token issued by the legitimate rotation is revoked with its family.
    assert_error(client.post(f"{BASE}/refresh", json={"refreshToken": new["refreshToken"]}),
                 401, "invalid_grant")


@pytest.mark.parametrize("body, status, field", [
    ({}, 400, "refreshToken"),
    ({"refreshToken": None}, 400, "refreshToken"),
    ({"refresh_token": "rt_x"}, 400, "refreshToken"),
    ({"refreshToken": "rt_unknown"}, 401, None),
])
def test_refresh_bad_input(client, body, status, field):
    assert_error(client.post(f"{BASE}/refresh", json=body), status, field=field)


# --- bearer-protected endpoints refuse missing and bad tokens -----------------------------------

PROTECTED = [
    ("GET", "/profile", None),
    ("PUT", "/profile", {"firstName": "X"}),
    ("POST", "/change-password", {"currentPassword": "a", "newPassword": "b"}),
    ("POST", "/deactivate-account", None),
    ("DELETE", "/delete-account", {"password": DEFAULT_PASSWORD}),
    ("POST", "/unlock-account", None),
    ("GET", "/active-sessions", None),
    ("POST", "/revoke-all-sessions", None),
    ("GET", "/security-activity", None),
]


@pytest.mark.parametrize("method, path, body", PROTECTED)
@pytest.mark.parametrize("header, error", [
    (None, "unauthenticated"),
    ("Bearer not-a-jwt", "invalid_token"),
    ("Basic abc", "unauthenticated"),
])
def test_protected_endpoints_need_a_valid_bearer_token(client, method, path, body, header,
                                                       error):
    headers = {"Authorization": header} if header else {}
    response = client.open(f"{BASE}{path}", method=method, json=body, headers=headers)
    assert_error(response, 401, error)


# --- profile -----------------------------------------------------------------------------------

def test_get_and_update_profile(client, tokens):
    got = assert_ok(profile(client, tokens))
    assert set(got) == USER_KEYS and got["firstName"] == "Ada"
    response = client.put(f"{BASE}/profile", headers=bearer(tokens),
                          json={"lastName": "Byron", "phoneNumber": "+44 20 7946 0000"})
    updated = assert_ok(response)
    assert updated["firstName"] == "Ada"  # not sent, not changed
    assert updated["lastName"] == "Byron" and updated["phoneNumber"] == "+44 20 7946 0000"
    assert assert_ok(profile(client, tokens))["lastName"] == "Byron"


@pytest.mark.parametrize("body, field", [
    ({"firstName": 3}, "firstName"),
    ({"phoneNumber": "call me"}, "phoneNumber"),
    ({"lastName": "x" * 101}, "lastName"),
    ({"email": "new@example.com"}, "email"),
])
def test_update_profile_bad_input(client, tokens, body, field):
    response = client.put(f"{BASE}/profile", headers=bearer(tokens), json=body)
    assert_error(response, 400, field=field)
    assert assert_ok(profile(client, tokens))["email"] == "ada@example.com"


# --- change password ---------------------------------------------------------------------------

def test_change_password_keeps_this_session_and_ends_the_others(client, tokens):
    other = assert_ok(login(client))
    response = client.post(f"{BASE}/change-password", headers=bearer(tokens),
                           json={"currentPassword": DEFAULT_PASSWORD,
                                 "newPassword": NEW_PASSWORD})
    assert_ok(response)
    assert_ok(profile(client, tokens))
    assert_error(profile(client, other), 401, "invalid_token")
    assert_error(login(client), 401)
    assert_ok(login(client, password=NEW_PASSWORD))


@pytest.mark.parametrize("body, field", [
    ({"currentPassword": "nope nope nope", "newPassword": NEW_PASSWORD}, "currentPassword"),
    ({"currentPassword": DEFAULT_PASSWORD, "newPassword": "short"}, "newPassword"),
    ({"currentPassword": DEFAULT_PASSWORD}, "newPassword"),
    ({"current_password": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD}, "currentPassword"),
])
def test_change_password_bad_input_names_the_field(client, tokens, body, field):
    response = client.post(f"{BASE}/change-password", headers=bearer(tokens), json=body)
    assert_error(response, 400, field=field)
    assert_ok(login(client))


def test_password_rechecks_are_limited_per_account_from_any_address(app_factory):
    client = app_factory(PASSWORD_RECHECK_LIMIT="3 per 15 minutes").test_client()
    register(client)
    tokens = assert_ok(login(client))

    def change(current, n):
        return client.post(f"{BASE}/change-password", headers=bearer(tokens),
                           json={"currentPassword": current, "newPassword": NEW_PASSWORD},
                           environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})

    for n in range(3):
        assert_error(change(f"guess number {n}", n), 400, field="currentPassword")
    # Every further re-check of this account waits, from a new address, through another
    # endpoint, with the right password too.
    refused = change(DEFAULT_PASSWORD, 10)
    assert_error(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    deleted = client.delete(f"{BASE}/delete-account", headers=bearer(tokens),
                            json={"password": DEFAULT_PASSWORD},
                            environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert_error(deleted, 429)
    assert_ok(profile(client, tokens))
    assert_ok(login(client))


# --- deactivate and delete ---------------------------------------------------------------------

def test_deactivate_ends_every_session_and_blocks_login(client, tokens, query):
    other = assert_ok(login(client))
    assert_ok(client.post(f"{BASE}/deactivate-account", headers=bearer(tokens)))
    for t in (tokens, other):
        assert_error(profile(client, t), 401)
        assert_error(client.post(f"{BASE}/refresh", json={"refreshToken": t["refreshToken"]}),
                     401, "invalid_grant")
    assert_error(login(client), 403, "account_inactive")

    def check(session):
        user = session.scalar(select(User).where(User.email == "ada@example.com"))
        live = session.scalar(select(func.count()).select_from(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)))
        unrevoked = session.scalar(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)))
        events = session.scalars(select(AuditEvent.event).where(
            AuditEvent.user_id == user.id)).all()
        return user.is_active, live, unrevoked, events

    is_active, live, unrevoked, events = query(check)
    assert (is_active, live, unrevoked) == (False, 0, 0)
    assert "account.deactivated" in events


def test_delete_account_removes_the_user_and_keeps_an_anonymous_audit_trail(client, tokens,
                                                                           query):
    user_id = tokens["user"]["id"]
    response = client.delete(f"{BASE}/delete-account", headers=bearer(tokens),
                             json={"password": DEFAULT_PASSWORD})
    assert_ok(response)
    assert_error(profile(client, tokens), 401)
    assert_error(login(client), 401, "invalid_credentials")

    def check(session):
        from uuid import UUID

        key = UUID(user_id)
        counts = [session.scalar(select(func.count()).select_from(model).where(
            model.user_id == key)) for model in (AuthSession, RefreshToken, AuditEvent)]
        deleted = session.scalars(select(AuditEvent).where(
            AuditEvent.event == "account.deleted")).all()
        return session.get(User, key), counts, deleted

    user, counts, deleted = query(check)
    assert user is None and counts == [0, 0, 0]
    assert len(deleted) == 1 and deleted[0].user_id is None
    assert deleted[0].details["former_user_id"] == user_id
    # The email is free again.
    assert register(client).status_code == 201


@pytest.mark.parametrize("body, status, field", [
    ({"password": "not my password"}, 400, "password"),
    ({}, 400, "password"),
    ({"password": 123}, 400, "password"),
])
def test_delete_account_bad_password_keeps_the_account(client, tokens, body, status, field):
    response = client.delete(f"{BASE}/delete-account", headers=bearer(tokens), json=body)
    assert_error(response, status, field=field)
    assert_ok(profile(client, tokens))


# --- unlock ------------------------------------------------------------------------------------

def _fail_logins(client, email, times):
    for _ in range(times):
        login(client, email, "wrong wrong wrong")


def test_unlock_without_body_resets_the_callers_own_login_throttle(app_factory):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="3 per 15 minutes")
    client = app.test_client()
    register(client)
    tokens = assert_ok(login(client))
    _fail_logins(client, "ada@example.com", 3)
    assert_error(login(client), 429, "rate_limited")
    data = assert_ok(client.post(f"{BASE}/unlock-account", headers=bearer(tokens)))
    assert data["email"] == "ada@example.com"
    assert_ok(login(client))


def test_admin_unlocks_another_account(app, client, make_user, admin_tokens, query):
    from app.core import accounts
    from app.extensions import db

    victim = make_user(email="bob@example.com")
    with app.app_context():
        accounts.get_user(victim["id"]).is_locked = True
        db.session.commit()
    assert_error(login(client, "bob@example.com"), 403, "account_locked")
    for body in ({"email": "bob@example.com"}, {"userId": victim["id"]}):
        response = client.post(f"{BASE}/unlock-account", headers=bearer(admin_tokens),
                               json=body)
        assert assert_ok(response)["id"] == victim["id"]
    assert_ok(login(client, "bob@example.com"))
    events = query(lambda s: s.scalars(select(AuditEvent.details).where(
        AuditEvent.event == "account.unlocked")).all())
    assert len(events) == 2 and events[0]["scope"] == "admin"


def test_non_admin_cannot_unlock_someone_else(client, tokens, make_user):
    make_user(email="bob@example.com")
    for body in ({"email": "bob@example.com"}, {"email": "ghost@example.com"}):
        response = client.post(f"{BASE}/unlock-account", headers=bearer(tokens), json=body)
        assert_error(response, 403, "forbidden")
    # Naming yourself is the self-service reset.
    assert_ok(client.post(f"{BASE}/unlock-account", headers=bearer(tokens),
                          json={"email": "ada@example.com"}))


@pytest.mark.parametrize("body, status, field", [
    ({"userId": "not-a-uuid"}, 400, "userId"),
    ({"email": "a@example.com", "userId": "00000000-0000-0000-0000-000000000000"}, 400,
     "userId"),
    ({"email": "ghost@example.com"}, 404, None),
    ({"user": "bob"}, 400, "user"),
])
def test_unlock_bad_input(client, admin_tokens, body, status, field):
    response = client.post(f"{BASE}/unlock-account", headers=bearer(admin_tokens), json=body)
    assert_error(response, status, field=field)


# --- sessions and security activity ------------------------------------------------------------

def test_active_sessions_lists_each_login_and_marks_the_current_one(client, tokens):
    other = assert_ok(login(client))
    listed = assert_ok(client.get(f"{BASE}/active-sessions", headers=bearer(tokens)))
    # Registering signed in too: three sessions.
    assert len(listed) == 3 and sum(s["current"] for s in listed) == 1
    assert set(listed[0]) == {"id", "ipAddress", "userAgent", "createdAt", "lastSeenAt",
                              "current"}
    assert_ok(client.post(f"{BASE}/logout", json={"refreshToken": other["refreshToken"]}))
    assert len(assert_ok(client.get(f"{BASE}/active-sessions", headers=bearer(tokens)))) == 2


def test_revoke_all_sessions_refuses_every_token_at_once(client, tokens):
    other = assert_ok(login(client))
    data = assert_ok(client.post(f"{BASE}/revoke-all-sessions", headers=bearer(tokens)))
    assert data == {"revokedSessions": 3}
    for t in (tokens, other):
        assert_error(profile(client, t), 401, "invalid_token")
        assert_error(client.post(f"{BASE}/refresh", json={"refreshToken": t["refreshToken"]}),
                     401, "invalid_grant")
    assert_ok(login(client))


def test_security_activity_lists_the_login_events(client, tokens):
    login(client, password="wrong wrong wrong")
    events = assert_ok(client.get(f"{BASE}/security-activity", headers=bearer(tokens)))
    types = [e["type"] for e in events]
    assert types.count("login.succeeded") == 2 and "login.failed" in types
    assert "signup" in types
    assert set(events[0]) == {"type", "ipAddress", "userAgent", "createdAt", "details"}
    failed = next(e for e in events if e["type"] == "login.failed")
    assert failed["details"] == {"reason": "invalid_credentials"}


# --- the mount ---------------------------------------------------------------------------------

def test_unknown_path_and_wrong_method_answer_in_the_envelope(client):
    assert_error(client.get(f"{BASE}/nothing-here"), 404, "not_found")
    wrong = client.get(f"{BASE}/login")
    assert_error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"]
    assert_error(client.post(f"{BASE}/profile", json={}), 405, "method_not_allowed")


def test_openapi_lists_every_route(client):
    document = client.get("/openapi/apiv1.json").get_json()
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    expected = {
        ("POST", "/register"), ("POST", "/login"), ("POST", "/logout"), ("POST", "/refresh"),
        ("GET", "/profile"), ("PUT", "/profile"), ("POST", "/change-password"),
        ("POST", "/deactivate-account"), ("DELETE", "/delete-account"),
        ("POST", "/unlock-account"), ("GET", "/active-sessions"),
        ("POST", "/revoke-all-sessions"), ("GET", "/security-activity"),
        ("POST", "/verify-email"), ("POST", "/resend-verification"),
        ("POST", "/forgot-password"), ("POST", "/reset-password"), ("POST", "/otp/send"),
        ("POST", "/verify-email-otp"), ("POST", "/verify-sms-otp"),
        ("POST", "/mfa/setup"), ("POST", "/mfa/enable"), ("POST", "/mfa/disable"),
        ("POST", "/verify-mfa"), ("POST", "/verify-totp"), ("POST", "/reset-user-mfa"),
    }
    assert operations == {(method, BASE + path) for method, path in expected}
    schemas = document["components"]["schemas"]
    assert set(schemas["RegisterBody"]["properties"]) == {
        "email", "password", "firstName", "lastName", "phoneNumber"}
    assert document["paths"][f"{BASE}/profile"]["get"]["security"] == [{"bearer": []}]
