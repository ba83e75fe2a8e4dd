"""cosmicsync's MFA over HTTP: /auth/mfa/enable starts set-up (secret and PNG QR code),
/auth/mfa/verify confirms it, finishes an MFA login, or steps a session up."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core import clients
from app.extensions import db
from app.models import AuthSession, RefreshToken
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.api_mfa import enable_email_codes, mailed_code
from tests.support.mfa_pages import enrol_passkey, make_recovery_codes

EMAIL = "ada@example.com"


@pytest.fixture
def app_id(app):
    with app.app_context():
        client, _secret = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        return client.client_id


def login(client, app_id, **extra):
    return client.post("/auth/login", json={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                            "application_id": app_id, **extra})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(client, app_id):
    client.post("/auth/register", json={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                        "username": "ada", "application_id": app_id})
    return login(client, app_id).get_json()["token"]


@pytest.fixture
def secret(client, token, clock):
    enabled = client.post("/auth/mfa/enable", headers=bearer(token))
    assert enabled.status_code == 200, enabled.get_json()
    body = enabled.get_json()
    assert set(body) == {"secret", "qr_code"}
    png = base64.b64decode(body["qr_code"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG")
    verified = client.post("/auth/mfa/verify", headers=bearer(token),
                           json={"code": clock.code(body["secret"])})
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["message"] == "MFA verified successfully"
    assert len(verified.get_json()["backup_codes"]) == 10
    clock.advance(60)
    return body["secret"]


def test_login_needs_the_second_factor_then_verify_hands_out_the_token(
        client, app_id, secret, clock, query):
    answer = login(client, app_id).get_json()
    assert answer["mfa_required"] is True and "token" not in answer
    done = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                  "code": clock.code(secret)})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["message"] == "MFA verified successfully" and body["expires_in"] > 0
    assert client.get("/users/me", headers=bearer(body["token"])).status_code == 200
    # As with a plain login, no refresh token is stored that nobody could use.
    assert query(lambda s: s.scalar(select(RefreshToken.id))) is None


def test_a_login_finished_by_mfa_keeps_the_application_it_named(
        client, app_id, secret, clock):
    answer = login(client, app_id).get_json()
    done = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                  "code": clock.code(secret)}).get_json()
    client.post("/users/me/data", headers=bearer(done["token"]),
                json={"key": "preferences", "value": {"theme": "dark"}})
    stored = client.get(f"/users/me/data/preferences?application_id={app_id}",
                        headers=bearer(done["token"]))
    assert stored.status_code == 200 and stored.get_json() == {"theme": "dark"}


def test_verify_without_a_pending_login_or_token_signs_nobody_in(client, secret, clock):
    missing = client.post("/auth/mfa/verify", json={"code": clock.code(secret)})
    assert missing.status_code == 400 and missing.get_json()["field"] == "mfa_token"
    forged = client.post("/auth/mfa/verify", json={"mfa_token": "forged",
                                                    "code": clock.code(secret)})
    assert forged.status_code == 401
    assert forged.get_json()["error"] == "mfa_challenge_invalid"


def test_a_wrong_code_counts_against_the_pending_login(client, app_id, secret, clock):
    answer = login(client, app_id).get_json()
    for _ in range(5):
        wrong = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                       "code": "000000"})
        assert wrong.status_code == 401 and wrong.get_json()["field"] == "code"
    dead = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                  "code": clock.code(secret)})
    assert dead.status_code in (401, 429) and "token" not in dead.get_json()


def test_verify_with_a_bearer_token_steps_up_once_mfa_is_on(client, token, secret, clock,
                                                            app):
    with app.app_context():
        db.session.execute(update(AuthSession).values(auth_time=utcnow() - timedelta(hours=1)))
        db.session.commit()
    stepped = client.post("/auth/mfa/verify", headers=bearer(token),
                          json={"code": clock.code(secret)})
    assert stepped.status_code == 200 and stepped.get_json() == {
        "message": "MFA verified successfully"}
    # The step-up made the session recent again: set-up may be restarted... but TOTP is on.
    again = client.post("/auth/mfa/enable", headers=bearer(token))
    assert again.status_code == 409 and again.get_json()["error"] == "mfa_already_enabled"


def test_verify_with_a_bearer_token_before_any_setup(client, token):
    response = client.post("/auth/mfa/verify", headers=bearer(token), json={"code": "123456"})
    assert response.status_code == 400 and response.get_json()["error"] == "mfa_not_enabled"


def test_enable_needs_a_token_and_a_recent_login(client, token, app):
    assert client.post("/auth/mfa/enable").status_code == 401
    with app.app_context():
        db.session.execute(update(AuthSession).values(auth_time=utcnow() - timedelta(hours=1)))
        db.session.commit()
    stale = client.post("/auth/mfa/enable", headers=bearer(token))
    assert stale.status_code == 401
    assert stale.get_json()["error"] == "reauthentication_required"
    fresh = client.post("/auth/mfa/enable", headers=bearer(token),
                        json={"password": DEFAULT_PASSWORD})
    assert fresh.status_code == 200


@pytest.mark.parametrize("body, field", [({}, "code"), ({"code": 1}, "code"),
                                         ({"code": "1", "method": "sms"}, "method")])
def test_verify_bad_input_names_the_field(client, body, field):
    response = client.post("/auth/mfa/verify", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_a_remembered_device_skips_mfa(client, app_id, secret, clock):
    answer = login(client, app_id).get_json()
    done = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                  "code": clock.code(secret),
                                                  "remember_device": True}).get_json()
    skipped = login(client, app_id, device_token=done["device_token"]).get_json()
    assert set(skipped) == {"token", "expires_in"}


def test_an_email_code_is_mailed_with_the_login_answer(app, client, app_id, token, query):
    enable_email_codes(app, EMAIL)
    answer = login(client, app_id).get_json()
    assert answer["methods"] == ["email"] and answer["email_code_sent"] is True
    done = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                  "code": mailed_code(query),
                                                  "method": "email"})
    assert done.status_code == 200 and done.get_json()["token"]


def test_verify_has_a_per_ip_limit(app_factory):
    client = app_factory(API_RATE_LIMITS={"cosmicsync.mfa_login": "1 per 15 minutes"}
                         ).test_client()
    first = client.post("/auth/mfa/verify", json={"mfa_token": "x", "code": "123456"})
    assert first.headers["X-RateLimit-Remaining"] == "0"
    second = client.post("/auth/mfa/verify", json={"mfa_token": "x", "code": "123456"})
    assert second.status_code == 429 and second.get_json()["error"] == "rate_limited"


def test_too_many_email_codes_keep_the_pending_login(app_factory, query):
    app = app_factory(MAIL_SEND_LIMIT="1 per hour")
    client = app.test_client()
    with app.app_context():
        app_client, _secret = clients.create_client("Tasks", ["https://tasks.example/cb"])
        db.session.commit()
        application = app_client.client_id
    client.post("/auth/register", json={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                        "username": "ada", "application_id": application})
    enable_email_codes(app, EMAIL)
    assert login(client, application).get_json()["email_code_sent"] is True
    second = login(client, application)
    assert second.status_code == 200
    assert second.get_json()["email_code_sent"] is False and second.get_json()["mfa_token"]


def test_a_passkey_is_left_out_of_the_methods_cosmicsync_offers(app, client, app_id,
                                                                make_user):
    person = make_user(email=EMAIL)
    enrol_passkey(app, person)
    codes = make_recovery_codes(app, person)
    answer = login(client, app_id).get_json()
    assert answer["mfa_required"] is True and answer["methods"] == ["recovery_code"]
    done = client.post("/auth/mfa/verify", json={"mfa_token": answer["mfa_token"],
                                                 "code": codes[0], "method": "recovery_code"})
    assert done.status_code == 200 and "token" in done.get_json()
