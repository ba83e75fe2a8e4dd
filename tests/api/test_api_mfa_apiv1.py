"""apiv1's MFA over HTTP: set-up, enable, disable, login finished by verify-totp and
verify-mfa, step-up with a bearer token, and the administrator's reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import AuditEvent, MfaChallenge
from app.models.types import utcnow
from tests.api.test_api_apiv1 import BASE, ERROR_KEYS, assert_ok, bearer, login, register
from tests.conftest import DEFAULT_PASSWORD
from tests.support.api_mfa import enable_email_codes, mailed_code
from tests.support.mfa_pages import enrol_passkey, make_recovery_codes

EMAIL = "ada@example.com"


def assert_error(response, status, error=None, field=None):
    """The apiv1 error envelope; a wrong MFA code adds attemptsLeft (and field)."""
    body = response.get_json()
    assert response.status_code == status, body
    assert body["status"] == status
    if error is not None:
        assert body["error"] == error, body
    if field is not None:
        assert body.get("field") == field, body
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"field", "attemptsLeft"}, body
    return body


@pytest.fixture
def admin_tokens(app, client, make_user):
    from app.core import accounts, rbac
    from app.extensions import db
    from app.models import Role

    user = make_user(email="root@example.com")
    with app.app_context():
        if db.session.scalar(select(Role).where(Role.name == "admin")) is None:
            db.session.add(Role(name="admin", description="Administrator", is_system=True))
            db.session.flush()
        rbac.assign_role(accounts.get_user(user["id"]), "admin")
        db.session.commit()
    return assert_ok(login(client, "root@example.com"))


@pytest.fixture
def tokens(client):
    register(client)
    return assert_ok(login(client))


@pytest.fixture
def enrolled(client, tokens, clock) -> dict:
    setup = assert_ok(client.post(f"{BASE}/mfa/setup", headers=bearer(tokens),
                                  json={"method": "totp"}))
    assert setup["otpauthUrl"].startswith("otpauth://totp/")
    assert setup["qrCode"].startswith("data:image/png;base64,")
    enabled = assert_ok(client.post(f"{BASE}/mfa/enable", headers=bearer(tokens),
                                    json={"code": clock.code(setup["secret"])}))
    assert enabled["mfaEnabled"] is True and len(enabled["backupCodes"]) == 10
    clock.advance(60)
    return {"secret": setup["secret"], "codes": enabled["backupCodes"]}


@pytest.fixture
def secret(enrolled) -> str:
    return enrolled["secret"]


def pending(client) -> dict:
    data = assert_ok(login(client))
    assert data["mfaRequired"] is True and "accessToken" not in data
    assert set(data) == {"mfaRequired", "mfaToken", "methods", "preferredMethod", "expiresIn"}
    return data


def test_login_of_an_mfa_user_issues_no_tokens_until_verify_totp(client, secret, clock):
    challenge = pending(client)
    done = assert_ok(client.post(f"{BASE}/verify-totp", json={
        "mfaToken": challenge["mfaToken"], "code": clock.code(secret)}))
    assert {"user", "accessToken", "refreshToken", "expiresIn"} <= set(done)
    assert_ok(client.get(f"{BASE}/profile", headers=bearer(done)))


def test_verify_totp_without_a_pending_login_signs_nobody_in(client, secret, clock):
    missing = client.post(f"{BASE}/verify-totp", json={"code": clock.code(secret)})
    assert_error(missing, 400, "validation", "mfaToken")
    forged = client.post(f"{BASE}/verify-totp", json={"mfaToken": "forged",
                                                      "code": clock.code(secret)})
    assert_error(forged, 401, "mfa_challenge_invalid")


def test_verify_mfa_finishes_a_login_with_a_backup_code(client, enrolled):
    challenge = pending(client)
    wrong = client.post(f"{BASE}/verify-mfa", json={"mfaToken": challenge["mfaToken"],
                                                    "code": "aaaaa-bbbbb",
                                                    "method": "backup_code"})
    assert_error(wrong, 401, "mfa_invalid_code")
    bad_method = client.post(f"{BASE}/verify-mfa", json={"mfaToken": challenge["mfaToken"],
                                                         "code": "1", "method": "carrier"})
    assert_error(bad_method, 400, "validation", "method")
    done = assert_ok(client.post(f"{BASE}/verify-mfa", json={
        "mfaToken": challenge["mfaToken"], "code": enrolled["codes"][0],
        "method": "backup_code"}))
    assert "accessToken" in done


def test_five_wrong_codes_then_the_pending_login_is_dead(client, secret, clock):
    challenge = pending(client)
    for left in (4, 3, 2, 1, 0):
        wrong = client.post(f"{BASE}/verify-totp", json={"mfaToken": challenge["mfaToken"],
                                                         "code": "000000"})
        assert wrong.get_json()["attemptsLeft"] == left
    dead = client.post(f"{BASE}/verify-totp", json={"mfaToken": challenge["mfaToken"],
                                                    "code": clock.code(secret)})
    assert dead.status_code in (401, 429) and "accessToken" not in dead.get_json()


def test_an_expired_pending_login_is_refused(client, app, secret, clock):
    from app.extensions import db

    challenge = pending(client)
    with app.app_context():
        db.session.execute(update(MfaChallenge).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    response = client.post(f"{BASE}/verify-totp", json={"mfaToken": challenge["mfaToken"],
                                                        "code": clock.code(secret)})
    assert_error(response, 401, "mfa_challenge_expired")


def test_a_pending_login_of_another_dialect_is_refused(client, secret, clock):
    modern = client.post("/v1/auth/login", json={"email": EMAIL, "password": DEFAULT_PASSWORD})
    response = client.post(f"{BASE}/verify-totp", json={
        "mfaToken": modern.get_json()["mfa_token"], "code": clock.code(secret)})
    assert_error(response, 401, "mfa_challenge_invalid")


def test_verify_mfa_with_a_bearer_token_is_a_step_up(client, tokens, secret, clock):
    stepped = assert_ok(client.post(f"{BASE}/verify-mfa", headers=bearer(tokens), json={
        "code": clock.code(secret), "method": "totp"}))
    assert stepped["verified"] is True and "accessToken" not in stepped
    wrong = client.post(f"{BASE}/verify-mfa", headers=bearer(tokens),
                        json={"code": "000000", "method": "totp"})
    assert_error(wrong, 401, "mfa_invalid_code", "code")


def test_remember_device_skips_mfa_next_time(client, secret, clock):
    challenge = pending(client)
    done = assert_ok(client.post(f"{BASE}/verify-mfa", json={
        "mfaToken": challenge["mfaToken"], "code": clock.code(secret), "method": "totp",
        "rememberDevice": True}))
    again = assert_ok(client.post(f"{BASE}/login", json={
        "email": EMAIL, "password": DEFAULT_PASSWORD, "deviceToken": done["deviceToken"]}))
    assert "accessToken" in again
    assert_ok(client.post(f"{BASE}/revoke-all-sessions", headers=bearer(again)))
    pending(client)  # the device is no longer trusted


def test_setup_bad_method_and_enable_without_code(client, tokens):
    assert_error(client.post(f"{BASE}/mfa/setup", headers=bearer(tokens),
                             json={"method": "sms"}), 400, "validation", "method")
    assert_error(client.post(f"{BASE}/mfa/enable", headers=bearer(tokens), json={}),
                 400, "validation", "code")


def test_disable_with_a_code(client, tokens, secret, clock):
    wrong = client.post(f"{BASE}/mfa/disable", headers=bearer(tokens), json={"code": "000000"})
    assert_error(wrong, 401, "mfa_invalid_code", "code")
    done = assert_ok(client.post(f"{BASE}/mfa/disable", headers=bearer(tokens),
                                 json={"code": clock.code(secret)}))
    assert done["mfaEnabled"] is False
    assert "accessToken" in assert_ok(login(client))


def test_disable_with_the_password_and_not_a_wrong_one(client, tokens, secret):
    wrong = client.post(f"{BASE}/mfa/disable", headers=bearer(tokens),
                        json={"password": "not the password at all"})
    assert wrong.status_code in (400, 401) and wrong.get_json()["field"] == "password"
    assert pending(client)["mfaRequired"] is True  # still on
    done = assert_ok(client.post(f"{BASE}/mfa/disable", headers=bearer(tokens),
                                 json={"password": DEFAULT_PASSWORD}))
    assert done["mfaEnabled"] is False
    assert "accessToken" in assert_ok(login(client))


def test_disable_needs_a_code_or_the_password(client, tokens, secret):
    assert_error(client.post(f"{BASE}/mfa/disable", headers=bearer(tokens), json={}), 400,
                 "validation")
    assert_error(client.post(f"{BASE}/mfa/disable", headers=bearer(tokens),
                             json={"code": 123456}), 400, "validation", "code")


# --- a passkey, which apiv1's document cannot check -------------------------------------------

def test_a_passkey_is_left_out_of_the_methods_apiv1_offers(app, client, make_user):
    person = make_user(email=EMAIL)
    enrol_passkey(app, person)
    codes = make_recovery_codes(app, person)
    data = pending(client)
    assert data["methods"] == ["recovery_code"]
    assert data["preferredMethod"] in (None, "recovery_code")
    done = assert_ok(client.post(f"{BASE}/verify-mfa", json={
        "mfaToken": data["mfaToken"], "code": codes[0], "method": "recovery_code"}))
    assert "accessToken" in done


def test_an_account_whose_only_factor_is_a_passkey_gets_no_tokens_from_apiv1(
        app, client, make_user, query):
    person = make_user(email=EMAIL)
    enrol_passkey(app, person)
    body = assert_error(login(client), 401, "mfa_required")
    assert "accessToken" not in body and "mfaToken" not in (body.get("data") or {})
    assert query(lambda s: s.scalar(select(MfaChallenge))) is None


@pytest.mark.parametrize("path", ["/mfa/setup", "/mfa/enable", "/mfa/disable",
                                  "/reset-user-mfa"])
def test_mfa_endpoints_need_a_token(client, path):
    assert_error(client.post(f"{BASE}{path}", json={"code": "123456"}), 401,
                 "unauthenticated")


# --- the administrator's reset -----------------------------------------------------------------

def test_an_admin_resets_a_users_mfa_and_it_is_audited(client, admin_tokens, secret, query):
    pending(client)  # MFA is on
    done = assert_ok(client.post(f"{BASE}/reset-user-mfa", headers=bearer(admin_tokens),
                                 json={"email": EMAIL, "reason": "lost phone"}))
    assert done["mfaEnabled"] is False
    assert "accessToken" in assert_ok(login(client))
    events = query(lambda s: s.scalars(select(AuditEvent.details)
                                       .where(AuditEvent.event == "mfa.admin_reset")).all())
    assert len(events) == 1 and events[0]["reason"] == "lost phone"


def test_a_non_admin_cannot_reset_mfa(client, tokens, make_user):
    other = make_user(email="bob@example.com")
    for body in ({"userId": other["id"]}, {"email": "nobody@example.com"}):
        assert_error(client.post(f"{BASE}/reset-user-mfa", headers=bearer(tokens), json=body),
                     403, "forbidden")


@pytest.mark.parametrize("body, status, field", [
    ({}, 400, "userId"),
    ({"userId": "00000000-0000-0000-0000-000000000000"}, 404, "userId"),
    ({"userId": "x", "email": "a@example.com"}, 400, "userId"),
    ({"userId": 5}, 400, "userId"),
])
def test_reset_user_mfa_bad_input(client, admin_tokens, body, status, field):
    response = client.post(f"{BASE}/reset-user-mfa", headers=bearer(admin_tokens), json=body)
    assert_error(response, status, field=field)


# --- email codes as the second factor -------------------------------------------------------

def test_an_email_code_finishes_the_login(app, client, tokens, query):
    enable_email_codes(app, EMAIL)
    challenge = pending(client)
    assert challenge["methods"] == ["email"]
    assert_error(client.post(f"{BASE}/otp/send", json={"method": "sms",
                                                       "mfaToken": challenge["mfaToken"]}),
                 400, "validation", "method")
    assert_error(client.post(f"{BASE}/otp/send", json={"method": "email",
                                                       "mfaToken": "forged"}),
                 401, "mfa_challenge_invalid")
    assert_ok(client.post(f"{BASE}/otp/send", json={"method": "email",
                                                    "mfaToken": challenge["mfaToken"]}))
    done = assert_ok(client.post(f"{BASE}/verify-mfa", json={
        "mfaToken": challenge["mfaToken"], "code": mailed_code(query), "method": "email"}))
    assert "accessToken" in done


def test_verify_endpoints_have_a_per_ip_limit(app_factory):
    client = app_factory(API_RATE_LIMITS={"apiv1.mfa_login": "1 per 15 minutes"}).test_client()
    first = client.post(f"{BASE}/verify-totp", json={"mfaToken": "x", "code": "123456"})
    assert first.headers["X-RateLimit-Limit"] == "1"
    second = client.post(f"{BASE}/verify-totp", json={"mfaToken": "x", "code": "123456"})
    assert_error(second, 429, "rate_limited")
    assert int(second.headers["Retry-After"]) > 0
