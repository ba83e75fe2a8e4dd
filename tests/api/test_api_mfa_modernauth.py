"""modernauth's MFA over HTTP: enrolling factors, signing in with each of them, the pending
login's budget and lifetime, passkeys, trusted devices and the device list."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from app.models import (
    AuthSession,
    MfaChallenge,
    OutboundMail,
    TrustedDevice,
    User,
    WebAuthnCredential,
)
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.api_mfa import enable_email_codes, mailed_code
from tests.support.mail_fixtures import settle_mail_requests
from tests.support.webauthn_authenticator import SoftwareAuthenticator

BASE = "/v1"
EMAIL = "ada@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(client, **extra):
    return client.post(f"{BASE}/auth/login", json={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                                   **extra})


@pytest.fixture
def token(client):
    """A fresh login's access token (fresh enough to change factors)."""
    client.post(f"{BASE}/auth/register", json={"email": EMAIL, "password": DEFAULT_PASSWORD})
    return login(client).get_json()["tokens"]["access_token"]


@pytest.fixture
def secret(client, token, clock):
    """TOTP enabled through the API; the clock then moves on so new codes are unused."""
    setup = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token))
    assert setup.status_code == 200, setup.get_json()
    body = setup.get_json()
    assert body["url"].startswith("otpauth://totp/") and body["qr_code"].startswith(
        "data:image/png;base64,")
    enabled = client.post(f"{BASE}/auth/mfa/enable", headers=bearer(token),
                          json={"code": clock.code(body["secret"])})
    assert enabled.status_code == 200, enabled.get_json()
    clock.advance(60)
    return body["secret"]


def pending(client) -> dict:
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["mfa_required"] is True and "tokens" not in body
    return body


def sessions_of(query) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(AuthSession)))


# --- signing in with the authenticator app ---------------------------------------------------

def test_a_password_alone_gets_mfa_required_and_no_tokens(client, secret, query):
    before = sessions_of(query)
    body = pending(client)
    assert set(body) == {"mfa_required", "user_id", "mfa_token", "methods",
                         "preferred_method", "expires_in"}
    assert body["methods"] == ["totp", "recovery_code"] and body["expires_in"] == 300
    assert sessions_of(query) == before


def test_last_login_is_recorded_only_once_the_second_factor_is_passed(client, secret, clock,
                                                                     query):
    def last_login_at():
        return query(lambda s: s.scalar(select(User.last_login_at).where(User.email == EMAIL)))

    before = last_login_at()  # the registration's and the fixture's logins
    challenge = pending(client)
    assert last_login_at() == before
    done = client.post(f"{BASE}/auth/login/mfa", json={"mfa_token": challenge["mfa_token"],
                                                       "code": clock.code(secret)})
    assert done.status_code == 200, done.get_json()
    newest = query(lambda s: s.scalar(select(AuthSession.auth_time)
                                      .order_by(AuthSession.created_at.desc()).limit(1)))
    assert last_login_at() == newest and newest > before


@pytest.mark.parametrize("by", ["mfa_token", "user_id"])
def test_totp_completes_the_login_by_token_or_user_id(client, secret, clock, by):
    challenge = pending(client)
    response = client.post(f"{BASE}/auth/login/mfa",
                           json={by: challenge[by], "code": clock.code(secret)})
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()["tokens"]
    me = client.get(f"{BASE}/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.get_json()["email"] == EMAIL
    # The pending login is used up.
    again = client.post(f"{BASE}/auth/login/mfa",
                        json={by: challenge[by], "code": clock.code(secret, 1)})
    assert again.status_code == 401 and again.get_json()["error"] == "mfa_challenge_invalid"


def test_the_session_records_both_factors(client, secret, clock, query):
    challenge = pending(client)
    client.post(f"{BASE}/auth/login/mfa",
                json={"mfa_token": challenge["mfa_token"], "code": clock.code(secret)})
    newest = query(lambda s: s.scalars(select(AuthSession)
                                       .order_by(AuthSession.created_at.desc())).first().amr)
    assert newest == ["pwd", "otp", "mfa"]


def test_five_wrong_codes_kill_the_pending_login(client, secret, clock):
    challenge = pending(client)
    for left in (4, 3, 2, 1):
        wrong = client.post(f"{BASE}/auth/login/mfa",
                            json={"mfa_token": challenge["mfa_token"], "code": "000000"})
        assert wrong.status_code == 401 and wrong.get_json()["error"] == "mfa_invalid_code"
        assert wrong.get_json()["attempts_left"] == left
    fifth = client.post(f"{BASE}/auth/login/mfa",
                        json={"mfa_token": challenge["mfa_token"], "code": "000000"})
    assert fifth.status_code == 401 and fifth.get_json()["attempts_left"] == 0
    right = client.post(f"{BASE}/auth/login/mfa",
                        json={"mfa_token": challenge["mfa_token"], "code": clock.code(secret)})
    assert right.status_code in (401, 429) and "tokens" not in right.get_json()
    assert right.get_json()["error"] in ("mfa_challenge_invalid", "mfa_attempts_exceeded")


def test_an_expired_pending_login_is_refused(client, secret, clock, app):
    from app.extensions import db

    challenge = pending(client)
    with app.app_context():
        db.session.execute(update(MfaChallenge).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.post(f"{BASE}/auth/login/mfa",
                           json={"mfa_token": challenge["mfa_token"], "code": clock.code(secret)})
    assert response.status_code == 401
    assert response.get_json()["error"] == "mfa_challenge_expired"


def test_a_user_id_without_a_pending_login_gets_nothing(client, secret, clock, query):
    user_id = query(lambda s: str(s.scalar(select(User.id))))
    response = client.post(f"{BASE}/auth/login/mfa",
                           json={"user_id": user_id, "code": clock.code(secret)})
    assert response.status_code == 401 and response.get_json()["error"] == \
        "mfa_challenge_invalid"


@pytest.mark.parametrize("end_them", ["change_password", "revoke_all_sessions"])
def test_a_pending_login_ends_with_the_password_or_the_sessions(client, token, secret, clock,
                                                               end_them):
    challenge = pending(client)
    # The owner, still signed in, changes the password (or signs out everywhere): the
    # password that opened the pending login must not finish it with a second factor.
    if end_them == "change_password":
        changed = client.post(f"{BASE}/auth/change-password", headers=bearer(token), json={
            "current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"})
    else:
        changed = client.post(f"{BASE}/auth/revoke-all-sessions", headers=bearer(token))
    assert changed.status_code == 200, changed.get_json()
    for body in ({"mfa_token": challenge["mfa_token"]}, {"user_id": challenge["user_id"]}):
        response = client.post(f"{BASE}/auth/login/mfa",
                               json={**body, "code": clock.code(secret)})
        assert response.status_code == 401, response.get_json()
        assert response.get_json()["error"] == "mfa_challenge_invalid"
        assert "tokens" not in response.get_json()


@pytest.mark.parametrize("body, field", [
    ({"mfa_token": "x"}, "code"),
    ({"code": "123456"}, "mfa_token"),
    ({"mfa_token": "x", "code": 123456}, "code"),
    ({"mfa_token": "x", "code": "123456", "extra": 1}, "extra"),
])
def test_login_mfa_bad_input_names_the_field(client, body, field):
    response = client.post(f"{BASE}/auth/login/mfa", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field


def test_login_mfa_has_a_per_ip_limit(app_factory):
    client = app_factory(API_RATE_LIMITS={"modernauth.mfa_login": "2 per 15 minutes"}
                         ).test_client()
    first = client.post(f"{BASE}/auth/login/mfa", json={"mfa_token": "x", "code": "1"})
    assert first.headers["X-RateLimit-Limit"] == "2"
    client.post(f"{BASE}/auth/login/mfa", json={"mfa_token": "x", "code": "1"})
    third = client.post(f"{BASE}/auth/login/mfa", json={"mfa_token": "x", "code": "1"})
    assert third.status_code == 429 and third.get_json()["error"] == "rate_limited"
    assert int(third.headers["Retry-After"]) > 0


# --- enrolling and managing factors ---------------------------------------------------------

def test_status_follows_the_factors(client, token, secret):
    status = client.get(f"{BASE}/auth/mfa/status", headers=bearer(token)).get_json()
    assert status["enabled"] is True and status["totp_enabled"] is True
    assert status["methods"] == ["totp", "recovery_code"]
    assert status["backup_codes_remaining"] == 10 and status["preferred_method"] == "totp"


def test_enable_hands_out_backup_codes_once(client, token, clock, query):
    setup = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token)).get_json()
    wrong = client.post(f"{BASE}/auth/mfa/enable", headers=bearer(token),
                        json={"code": "000000"})
    assert wrong.status_code == 401 and wrong.get_json()["field"] == "code"
    enabled = client.post(f"{BASE}/auth/mfa/enable", headers=bearer(token),
                          json={"code": clock.code(setup["secret"])}).get_json()
    assert len(enabled["backup_codes"]) == 10
    again = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token))
    assert again.status_code == 409 and again.get_json()["error"] == "mfa_already_enabled"


def test_enable_without_a_code_names_the_field(client, token):
    response = client.post(f"{BASE}/auth/mfa/enable", headers=bearer(token), json={})
    assert response.status_code == 400 and response.get_json()["field"] == "code"


def test_an_old_session_must_prove_itself_again(client, token, app):
    from app.extensions import db

    with app.app_context():
        db.session.execute(update(AuthSession).values(
            auth_time=utcnow() - timedelta(hours=1)))
        db.session.commit()
    refused = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "reauthentication_required"
    wrong = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token),
                        json={"password": "not the password"})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "password"
    allowed = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token),
                          json={"password": DEFAULT_PASSWORD})
    assert allowed.status_code == 200 and allowed.get_json()["secret"]


def test_disable_needs_a_code_or_the_password(client, token, secret, clock):
    missing = client.post(f"{BASE}/auth/mfa/disable", headers=bearer(token), json={})
    assert missing.status_code == 400 and missing.get_json()["field"] == "password"
    done = client.post(f"{BASE}/auth/mfa/disable", headers=bearer(token),
                       json={"code": clock.code(secret)})
    assert done.status_code == 200
    # Recovery codes alone are no second factor: the password signs in again.
    assert "tokens" in login(client).get_json()


def test_a_factor_change_can_sign_out_the_other_sessions(client, token, clock):
    other = login(client).get_json()["tokens"]["access_token"]
    setup = client.post(f"{BASE}/auth/mfa/setup", headers=bearer(token)).get_json()
    enabled = client.post(f"{BASE}/auth/mfa/enable", headers=bearer(token),
                          json={"code": clock.code(setup["secret"]),
                                "revoke_other_sessions": True}).get_json()
    assert enabled["revoked_sessions"] == 2  # registration's and the other login's
    assert client.get(f"{BASE}/auth/me", headers=bearer(other)).status_code == 401
    assert client.get(f"{BASE}/auth/me", headers=bearer(token)).status_code == 200


def test_preferred_method(client, token, secret):
    bad = client.post(f"{BASE}/auth/mfa/preferred", headers=bearer(token),
                      json={"method": "carrier-pigeon"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "method"
    not_on = client.post(f"{BASE}/auth/mfa/preferred", headers=bearer(token),
                         json={"method": "email"})
    assert not_on.status_code == 400 and not_on.get_json()["error"] == "mfa_not_enabled"
    ok = client.post(f"{BASE}/auth/mfa/preferred", headers=bearer(token),
                     json={"method": "totp"})
    assert ok.status_code == 200 and ok.get_json()["preferred_method"] == "totp"


# --- backup codes ------------------------------------------------------------------------------

def test_a_backup_code_signs_in_once(client, token, secret):
    codes = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token)
                        ).get_json()["backup_codes"]
    assert len(codes) == 10
    challenge = pending(client)
    done = client.post(f"{BASE}/auth/login/mfa/backup",
                       json={"mfa_token": challenge["mfa_token"], "code": codes[0]})
    assert done.status_code == 200 and "tokens" in done.get_json()
    count = client.get(f"{BASE}/auth/mfa/backup-codes/count", headers=bearer(token))
    assert count.get_json() == {"count": 9}
    reused = client.post(f"{BASE}/auth/login/mfa/backup",
                         json={"mfa_token": pending(client)["mfa_token"], "code": codes[0]})
    assert reused.status_code == 401 and reused.get_json()["error"] == "mfa_invalid_code"


def test_new_backup_codes_replace_the_old_set(client, token, secret):
    first = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token)
                        ).get_json()["backup_codes"]
    client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token))
    old = client.post(f"{BASE}/auth/login/mfa/backup",
                      json={"mfa_token": pending(client)["mfa_token"], "code": first[0]})
    assert old.status_code == 401


# --- email codes -------------------------------------------------------------------------------

def verify_email(app):
    from app.extensions import db

    with app.app_context():
        db.session.execute(update(User).values(email_verified=True))
        db.session.commit()


def test_email_codes_enable_send_and_sign_in(client, token, app, query):
    unverified = client.post(f"{BASE}/auth/mfa/email/enable", headers=bearer(token))
    assert unverified.status_code == 400 and unverified.get_json()["field"] == "email"
    verify_email(app)
    enabled = client.post(f"{BASE}/auth/mfa/email/enable", headers=bearer(token))
    assert enabled.status_code == 200 and len(enabled.get_json()["backup_codes"]) == 10
    challenge = pending(client)
    assert challenge["methods"] == ["email", "recovery_code"]
    sent = client.post(f"{BASE}/auth/login/mfa/email/send",
                       json={"mfa_token": challenge["mfa_token"]})
    assert sent.status_code == 200
    wrong = client.post(f"{BASE}/auth/login/mfa/email",
                        json={"mfa_token": challenge["mfa_token"], "code": "000000"})
    assert wrong.status_code == 401
    done = client.post(f"{BASE}/auth/login/mfa/email",
                       json={"mfa_token": challenge["mfa_token"], "code": mailed_code(query)})
    assert done.status_code == 200 and "tokens" in done.get_json()
    off = client.post(f"{BASE}/auth/mfa/email/disable", headers=bearer(token))
    assert off.status_code == 200
    assert "tokens" in login(client).get_json()


def test_email_send_needs_a_pending_login(client):
    response = client.post(f"{BASE}/auth/login/mfa/email/send", json={"mfa_token": "nope"})
    assert response.status_code == 401 and response.get_json()["error"] == \
        "mfa_challenge_invalid"
    missing = client.post(f"{BASE}/auth/login/mfa/email/send", json={})
    assert missing.status_code == 400 and missing.get_json()["field"] == "mfa_token"


# --- passkeys ----------------------------------------------------------------------------------

def register_passkey(client, token, authenticator, **body):
    begin = client.post(f"{BASE}/auth/mfa/webauthn/register/begin", headers=bearer(token))
    assert begin.status_code == 200, begin.get_json()
    options = begin.get_json()
    assert set(options) == {"publicKey"} and options["publicKey"]["rp"]["id"] == "localhost"
    return client.post(f"{BASE}/auth/mfa/webauthn/register/finish", headers=bearer(token),
                       json={**authenticator.create(options), **body})


def test_passkey_register_list_sign_in_and_delete(client, token):
    authenticator = SoftwareAuthenticator()
    finish = register_passkey(client, token, authenticator, name="Laptop")
    assert finish.status_code == 201, finish.get_json()
    registered = finish.get_json()["credential"]
    assert registered["name"] == "Laptop" and len(finish.get_json()["backup_codes"]) == 10
    listed = client.get(f"{BASE}/auth/mfa/webauthn/credentials", headers=bearer(token))
    assert [c["id"] for c in listed.get_json()["credentials"]] == [registered["id"]]

    challenge = pending(client)
    assert challenge["methods"][0] == "webauthn"
    options = client.post(f"{BASE}/auth/login/mfa/webauthn/begin",
                          json={"mfa_token": challenge["mfa_token"]}).get_json()
    assert options["publicKey"]["allowCredentials"][0]["id"] == registered["credential_id"]
    done = client.post(f"{BASE}/auth/login/mfa/webauthn/finish",
                       json={"mfa_token": challenge["mfa_token"],
                             "credential": authenticator.get(options)})
    assert done.status_code == 200, done.get_json()
    assert "tokens" in done.get_json()

    unknown = client.open(f"{BASE}/auth/mfa/webauthn/credentials", method="DELETE",
                          headers=bearer(token), json={"credential_id": "nope"})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"
    missing = client.open(f"{BASE}/auth/mfa/webauthn/credentials", method="DELETE",
                          headers=bearer(token), json={})
    assert missing.status_code == 400 and missing.get_json()["field"] == "credential_id"
    deleted = client.open(f"{BASE}/auth/mfa/webauthn/credentials", method="DELETE",
                          headers=bearer(token), json={"credential_id": registered["id"]})
    assert deleted.status_code == 200
    assert client.get(f"{BASE}/auth/mfa/webauthn/credentials", headers=bearer(token)
                      ).get_json()["credentials"] == []


def test_passkey_login_takes_the_credential_as_the_body(client, token):
    authenticator = SoftwareAuthenticator()
    assert register_passkey(client, token, authenticator).status_code == 201
    challenge = pending(client)
    options = client.post(f"{BASE}/auth/login/mfa/webauthn/begin",
                          json={"user_id": challenge["user_id"]}).get_json()
    done = client.post(f"{BASE}/auth/login/mfa/webauthn/finish",
                       json={**authenticator.get(options), "user_id": challenge["user_id"]})
    assert done.status_code == 200, done.get_json()


def test_a_bad_passkey_answer_spends_an_attempt(client, token):
    authenticator = SoftwareAuthenticator()
    register_passkey(client, token, authenticator)
    challenge = pending(client)
    options = client.post(f"{BASE}/auth/login/mfa/webauthn/begin",
                          json={"mfa_token": challenge["mfa_token"]}).get_json()
    forged = authenticator.get(options, origin="https://evil.example")
    response = client.post(f"{BASE}/auth/login/mfa/webauthn/finish",
                           json={"mfa_token": challenge["mfa_token"], "credential": forged})
    assert response.status_code == 400 and response.get_json()["error"] == "passkey_invalid"
    no_credential = client.post(f"{BASE}/auth/login/mfa/webauthn/finish",
                                json={"mfa_token": challenge["mfa_token"]})
    assert no_credential.status_code == 400
    assert no_credential.get_json()["field"] == "credential"



DEEP = "[" * 1500  # deeper than Python's json parser recurses


def test_deeply_nested_json_at_the_passkey_login_is_a_400(client, token):
    authenticator = SoftwareAuthenticator()
    register_passkey(client, token, authenticator)
    challenge = pending(client)
    url = f"{BASE}/auth/login/mfa/webauthn/finish"
    body = client.post(url, data=DEEP, content_type="application/json")
    assert body.status_code == 400
    assert body.get_json() == {"error": "validation", "field": "body",
                               "message": "The request body is not valid JSON."}
    options = client.post(f"{BASE}/auth/login/mfa/webauthn/begin",
                          json={"mfa_token": challenge["mfa_token"]}).get_json()
    as_text = client.post(url, json={"mfa_token": challenge["mfa_token"], "credential": DEEP})
    assert as_text.status_code == 400
    assert as_text.get_json()["field"] == "credential"
    assert as_text.get_json()["message"] == "The credential is not valid JSON."
    deep_client_data = authenticator.get(options)
    deep_client_data["response"]["clientDataJSON"] = base64.urlsafe_b64encode(
        b'{"challenge": ' + DEEP.encode()).decode().rstrip("=")
    malformed = client.post(url, json={"mfa_token": challenge["mfa_token"],
                                       "credential": deep_client_data})
    assert malformed.status_code == 400
    assert malformed.get_json()["error"] == "passkey_invalid"
    assert malformed.get_json()["field"] == "credential"


def test_deeply_nested_json_at_passkey_registration_is_a_400(client, token, query):
    url = f"{BASE}/auth/mfa/webauthn/register/finish"
    client.post(f"{BASE}/auth/mfa/webauthn/register/begin", headers=bearer(token))
    body = client.post(url, headers=bearer(token), data=DEEP,
                       content_type="application/json")
    assert body.status_code == 400 and body.get_json()["field"] == "body"
    as_text = client.post(url, headers=bearer(token), json={"credential": DEEP})
    assert as_text.status_code == 400
    assert as_text.get_json()["error"] == "validation"
    assert as_text.get_json()["field"] == "credential"
    assert query(lambda s: s.scalar(select(func.count()).select_from(WebAuthnCredential))) == 0


def test_passkey_registration_ignores_transports_that_are_not_a_list(client, token, query):
    begin = client.post(f"{BASE}/auth/mfa/webauthn/register/begin", headers=bearer(token))
    credential = SoftwareAuthenticator().create(begin.get_json())
    credential["response"]["transports"] = 5
    finish = client.post(f"{BASE}/auth/mfa/webauthn/register/finish", headers=bearer(token),
                         json=credential)
    assert finish.status_code == 201, finish.get_json()
    assert query(lambda s: s.scalar(select(WebAuthnCredential))).transports == []

# --- trusted devices and the device list -----------------------------------------------------

def test_a_remembered_device_skips_mfa_until_sign_out_everywhere(client, secret, clock,
                                                                  query):
    challenge = pending(client)
    done = client.post(f"{BASE}/auth/login/mfa",
                       json={"mfa_token": challenge["mfa_token"], "code": clock.code(secret),
                             "remember_device": True}).get_json()
    device_token = done["device_token"]
    assert done["device_token_expires_in"] == 30 * 24 * 3600
    skipped = login(client, device_token=device_token).get_json()
    assert "tokens" in skipped and "mfa_required" not in skipped
    access = skipped["tokens"]["access_token"]
    devices = client.get(f"{BASE}/devices", headers=bearer(access)).get_json()["devices"]
    current = [d for d in devices if d["current"]][0]
    assert current["trusted"] is True and current["trusted_until"]

    revoked = client.post(f"{BASE}/auth/revoke-all-sessions", headers=bearer(access))
    assert revoked.status_code == 200
    assert login(client, device_token=device_token).get_json()["mfa_required"] is True
    assert query(lambda s: s.scalar(select(func.count()).select_from(TrustedDevice)
                                    .where(TrustedDevice.revoked_at.is_(None)))) == 0


def test_another_users_device_token_does_not_skip_mfa(client, secret):
    assert login(client, device_token="forged-token").get_json()["mfa_required"] is True


def test_trust_device_and_revoke_trust(client, token, secret):
    needs_mfa = login(client).get_json()
    assert needs_mfa["mfa_required"] is True
    trusted = client.post(f"{BASE}/auth/mfa/trust-device", headers=bearer(token))
    assert trusted.status_code == 200, trusted.get_json()
    body = trusted.get_json()
    assert body["device_token"] and body["expires_in"] == 30 * 24 * 3600
    assert client.get(f"{BASE}/devices/{body['device_id']}", headers=bearer(token)
                      ).get_json()["trusted"] is True
    # The device signs in again with its token: the new session is the trusted one now.
    later = login(client, device_token=body["device_token"]).get_json()["tokens"]
    access = later["access_token"]
    assert [d["trusted"] for d in client.get(f"{BASE}/devices", headers=bearer(access))
            .get_json()["devices"] if d["current"]] == [True]
    revoked = client.post(f"{BASE}/auth/mfa/revoke-trust", headers=bearer(access))
    assert revoked.status_code == 200
    assert login(client, device_token=body["device_token"]).get_json()["mfa_required"]
    again = client.post(f"{BASE}/auth/mfa/revoke-trust", headers=bearer(access))
    assert again.status_code == 404
    unknown = client.post(f"{BASE}/auth/mfa/revoke-trust", headers=bearer(access),
                          json={"device_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "device_id"


def test_trusting_without_a_second_factor_is_refused(client, token):
    response = client.post(f"{BASE}/auth/mfa/trust-device", headers=bearer(token))
    assert response.status_code == 400 and response.get_json()["error"] == "mfa_not_enabled"


def test_devices_get_trust_untrust_and_remove(client, token, secret):
    other = login(client, device_token=None)  # an MFA login: no session yet
    assert other.get_json()["mfa_required"]
    devices = client.get(f"{BASE}/devices", headers=bearer(token)).get_json()["devices"]
    current = next(d for d in devices if d["current"])
    registration = next(d for d in devices if not d["current"])
    assert current["trusted"] is False

    forbidden = client.post(f"{BASE}/devices/{registration['id']}/trust",
                            headers=bearer(token))
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"
    trusted = client.post(f"{BASE}/devices/{current['id']}/trust", headers=bearer(token))
    assert trusted.status_code == 200 and trusted.get_json()["trusted"] is True
    assert trusted.get_json()["device_token"]
    untrusted = client.delete(f"{BASE}/devices/{current['id']}/trust", headers=bearer(token))
    assert untrusted.status_code == 200 and untrusted.get_json()["trusted"] is False

    assert client.get(f"{BASE}/devices/nope", headers=bearer(token)).status_code == 404
    assert client.delete(f"{BASE}/devices/00000000-0000-0000-0000-000000000000",
                         headers=bearer(token)).status_code == 404
    removed = client.delete(f"{BASE}/devices/{registration['id']}", headers=bearer(token))
    assert removed.status_code == 200
    left = client.get(f"{BASE}/devices", headers=bearer(token)).get_json()["devices"]
    assert [d["id"] for d in left] == [current["id"]]


# --- magic links, settings, authentication ---------------------------------------------------

def magic_link_token(client, query) -> str:
    client.post(f"{BASE}/auth/magic-link/send", json={"email": EMAIL})
    query(lambda _s: settle_mail_requests(current_app._get_current_object()))
    text = query(lambda s: s.scalars(select(OutboundMail.text)
                                     .where(OutboundMail.purpose == "magic_link")).one())
    return re.search(r"token=([A-Za-z0-9_-]+)", text).group(1)


def test_a_magic_link_is_only_a_first_factor(client, secret, clock, query):
    answer = client.post(f"{BASE}/auth/magic-link/verify",
                         json={"token": magic_link_token(client, query)})
    body = answer.get_json()
    assert answer.status_code == 200 and body["mfa_required"] is True and "tokens" not in body
    done = client.post(f"{BASE}/auth/login/mfa",
                       json={"mfa_token": body["mfa_token"], "code": clock.code(secret)})
    assert done.status_code == 200
    amr = query(lambda s: s.scalars(select(AuthSession)
                                    .order_by(AuthSession.created_at.desc())).first().amr)
    assert amr == ["otp", "mfa"]  # a link and an app code: two factors, both one-time codes


def test_settings_tell_the_mfa_flags(client):
    flags = client.get(f"{BASE}/auth/settings").get_json()["mfa"]
    assert flags["totp"] is True and flags["email"] is True and flags["webauthn"] is True


@pytest.mark.parametrize("method, path", [
    ("GET", "/auth/mfa/status"), ("POST", "/auth/mfa/setup"), ("POST", "/auth/mfa/enable"),
    ("POST", "/auth/mfa/disable"), ("POST", "/auth/mfa/backup-codes"),
    ("GET", "/auth/mfa/backup-codes/count"), ("POST", "/auth/mfa/preferred"),
    ("POST", "/auth/mfa/email/enable"), ("POST", "/auth/mfa/email/disable"),
    ("POST", "/auth/mfa/webauthn/register/begin"),
    ("POST", "/auth/mfa/webauthn/register/finish"),
    ("GET", "/auth/mfa/webauthn/credentials"), ("DELETE", "/auth/mfa/webauthn/credentials"),
    ("POST", "/auth/mfa/trust-device"), ("POST", "/auth/mfa/revoke-trust"),
    ("GET", "/devices"), ("GET", "/devices/x"), ("DELETE", "/devices/x"),
    ("POST", "/devices/x/trust"), ("DELETE", "/devices/x/trust"),
])
def test_account_endpoints_need_a_token(client, method, path):
    response = client.open(f"{BASE}{path}", method=method, json={"code": "123456",
                                                                 "method": "totp"})
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == "unauthenticated"


def test_openapi_lists_the_mfa_and_device_routes(client):
    document = client.get("/openapi/modernauth.json").get_json()
    listed = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    expected = {
        ("POST", "/auth/login/mfa"), ("POST", "/auth/login/mfa/backup"),
        ("POST", "/auth/login/mfa/email/send"), ("POST", "/auth/login/mfa/email"),
        ("POST", "/auth/login/mfa/webauthn/begin"), ("POST", "/auth/login/mfa/webauthn/finish"),
        ("GET", "/auth/mfa/status"), ("POST", "/auth/mfa/setup"), ("POST", "/auth/mfa/enable"),
        ("POST", "/auth/mfa/disable"), ("POST", "/auth/mfa/backup-codes"),
        ("GET", "/auth/mfa/backup-codes/count"), ("POST", "/auth/mfa/preferred"),
        ("POST", "/auth/mfa/email/enable"), ("POST", "/auth/mfa/email/disable"),
        ("POST", "/auth/mfa/webauthn/register/begin"),
        ("POST", "/auth/mfa/webauthn/register/finish"),
        ("GET", "/auth/mfa/webauthn/credentials"), ("DELETE", "/auth/mfa/webauthn/credentials"),
        ("POST", "/auth/mfa/trust-device"), ("POST", "/auth/mfa/revoke-trust"),
        ("GET", "/devices"), ("GET", "/devices/{device_id}"), ("DELETE", "/devices/{device_id}"),
        ("POST", "/devices/{device_id}/trust"), ("DELETE", "/devices/{device_id}/trust"),
    }
    assert {(method, BASE + path) for method, path in expected} <= listed
    status = document["paths"][f"{BASE}/auth/mfa/status"]["get"]
    assert status["security"] == [{"bearer": []}]
    assert "429" in document["paths"][f"{BASE}/auth/login/mfa"]["post"]["responses"]


@pytest.mark.parametrize("method, path, body, field", [
    ("POST", "/auth/mfa/preferred", {}, "method"),
    ("POST", "/auth/mfa/webauthn/register/finish", {}, "credential"),
    ("POST", "/auth/mfa/webauthn/register/finish", {"credential": 5}, "credential"),
    ("POST", "/auth/mfa/trust-device", {"password": "not the password"}, "password"),
    ("POST", "/auth/mfa/setup", {"password": 5}, "password"),
    ("POST", "/auth/mfa/disable", {"code": 12}, "code"),
    ("POST", "/auth/mfa/revoke-trust", {"device_id": "not-a-uuid"}, "device_id"),
])
def test_account_endpoints_name_the_bad_field(client, token, method, path, body, field):
    response = client.open(f"{BASE}{path}", method=method, headers=bearer(token), json=body)
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["field"] == field, response.get_json()


@pytest.mark.parametrize("path, body, field", [
    ("/auth/login/mfa/backup", {"mfa_token": "x"}, "code"),
    ("/auth/login/mfa/email", {"user_id": "x"}, "code"),
    ("/auth/login/mfa/webauthn/begin", {}, "mfa_token"),
    ("/auth/login/mfa/webauthn/finish", {"remember_device": "yes"}, "remember_device"),
    ("/auth/login/mfa/email/send", {"mfa_token": 5}, "mfa_token"),
])
def test_login_steps_name_the_bad_field(client, path, body, field):
    response = client.post(f"{BASE}{path}", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field


def test_an_email_code_cannot_follow_a_sign_in_link(client, token, app, query):
    verify_email(app)
    codes = client.post(f"{BASE}/auth/mfa/email/enable", headers=bearer(token)
                        ).get_json()["backup_codes"]
    body = client.post(f"{BASE}/auth/magic-link/verify",
                       json={"token": magic_link_token(client, query)}).get_json()
    # Both would prove the same mailbox: only the recovery codes are offered.
    assert body["mfa_required"] is True and body["methods"] == ["recovery_code"]
    refused = client.post(f"{BASE}/auth/login/mfa/email/send",
                          json={"mfa_token": body["mfa_token"]})
    assert refused.status_code == 400 and refused.get_json()["field"] == "method"
    refused = client.post(f"{BASE}/auth/login/mfa/email",
                          json={"mfa_token": body["mfa_token"], "code": "123456"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "mfa_not_enabled"
    done = client.post(f"{BASE}/auth/login/mfa/backup",
                       json={"mfa_token": body["mfa_token"], "code": codes[0]})
    assert done.status_code == 200 and "tokens" in done.get_json()


def test_a_sign_in_link_with_only_email_codes_needs_the_password(client, token, app, query):
    from app.core import accounts
    from app.core.mfa import recovery_codes
    from app.extensions import db

    verify_email(app)
    client.post(f"{BASE}/auth/mfa/email/enable", headers=bearer(token))
    with app.app_context():
        recovery_codes.delete_all(accounts.find_by_email(EMAIL))
        db.session.commit()
    answer = client.post(f"{BASE}/auth/magic-link/verify",
                         json={"token": magic_link_token(client, query)})
    assert answer.status_code == 401 and answer.get_json()["error"] == "mfa_required"
    assert "tokens" not in answer.get_json()
    assert pending(client)["methods"] == ["email"]  # the password still works


def test_the_email_code_arrives_over_smtp(mail_app, smtp_server):
    from tests.support.mail_fixtures import body_of

    api = mail_app.test_client()
    api.post(f"{BASE}/auth/register", json={"email": EMAIL, "password": DEFAULT_PASSWORD})
    enable_email_codes(mail_app, EMAIL)
    challenge = login(api).get_json()
    sent = api.post(f"{BASE}/auth/login/mfa/email/send",
                    json={"mfa_token": challenge["mfa_token"]})
    assert sent.status_code == 200, (challenge, sent.get_json())
    deadline = time.monotonic() + 10
    while not (mailed := [m for m in smtp_server.messages
                          if m["Subject"] == "Your sign-in code" and m["To"] == EMAIL]):
        assert time.monotonic() < deadline, "no sign-in code arrived"
        time.sleep(0.05)
    code = re.search(r"code is: (\d{6})", body_of(mailed[0])).group(1)
    done = api.post(f"{BASE}/auth/login/mfa/email",
                    json={"mfa_token": challenge["mfa_token"], "code": code})
    assert done.status_code == 200 and "tokens" in done.get_json()


def test_user_id_cannot_finish_a_login_started_on_the_hosted_pages(client, secret, clock,
                                                                   query):
    from tests.conftest import post_form

    page = post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    assert page.status_code == 302 and "/mfa" in page.headers["Location"]
    user_id = query(lambda s: str(s.scalar(select(User.id))))
    response = client.post(f"{BASE}/auth/login/mfa",
                           json={"user_id": user_id, "code": clock.code(secret)})
    assert response.status_code == 401
    assert response.get_json()["error"] == "mfa_challenge_invalid"
    assert query(lambda s: s.scalar(select(MfaChallenge.attempts))) == 0


def age_sessions(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.execute(update(AuthSession).values(
            auth_time=utcnow() - timedelta(hours=1)))
        db.session.commit()


def test_a_current_code_re_authenticates_an_old_session(client, token, secret, clock, app):
    age_sessions(app)
    refused = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "reauthentication_required"
    wrong = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token),
                        json={"code": "000000"})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "mfa_invalid_code"
    codes = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token),
                        json={"code": clock.code(secret)})
    assert codes.status_code == 200 and len(codes.get_json()["backup_codes"]) == 10
    # Recent now: the next change needs no proof.
    assert client.post(f"{BASE}/auth/mfa/trust-device", headers=bearer(token)
                       ).status_code == 200


def test_a_backup_code_also_re_authenticates(client, token, secret, app):
    codes = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token)
                        ).get_json()["backup_codes"]
    age_sessions(app)
    response = client.post(f"{BASE}/auth/mfa/trust-device", headers=bearer(token),
                           json={"code": codes[0]})
    assert response.status_code == 200 and response.get_json()["device_token"]
    count = client.get(f"{BASE}/auth/mfa/backup-codes/count", headers=bearer(token))
    assert count.get_json() == {"count": 9}


def test_a_passkey_is_deleted_by_query_id(client, token):
    authenticator = SoftwareAuthenticator()
    row = register_passkey(client, token, authenticator).get_json()["credential"]
    deleted = client.delete(f"{BASE}/auth/mfa/webauthn/credentials?id={row['credential_id']}",
                            headers=bearer(token))
    assert deleted.status_code == 200
    assert client.get(f"{BASE}/auth/mfa/status", headers=bearer(token)
                      ).get_json()["webauthn_credentials"] == 0


def test_every_login_mfa_route_spends_the_same_five_attempts(client, token, secret, clock):
    codes = client.post(f"{BASE}/auth/mfa/backup-codes", headers=bearer(token)
                        ).get_json()["backup_codes"]
    challenge = pending(client)
    for path, code in [("/auth/login/mfa", "000000"), ("/auth/login/mfa/backup", "aaaaa-aaaaa"),
                       ("/auth/login/mfa", "111111"), ("/auth/login/mfa/email", "222222"),
                       ("/auth/login/mfa/backup", "bbbbb-bbbbb")]:
        client.post(f"{BASE}{path}", json={"mfa_token": challenge["mfa_token"], "code": code})
    dead = client.post(f"{BASE}/auth/login/mfa/backup",
                       json={"mfa_token": challenge["mfa_token"], "code": codes[0]})
    assert dead.status_code in (401, 429) and "tokens" not in dead.get_json()


def test_a_device_remembered_without_a_session_is_listed_and_forgotten(client, token, secret,
                                                                       app):
    from app.core import accounts
    from app.core.context import ClientInfo
    from app.core.mfa import trusted_devices
    from app.extensions import db

    with app.app_context():  # as the hosted pages remember a browser
        device, _token = trusted_devices.issue(accounts.find_by_email(EMAIL),
                                               client=ClientInfo(user_agent="Firefox on Linux"))
        db.session.commit()
        device_id = str(device.id)
    listed = client.get(f"{BASE}/devices", headers=bearer(token)).get_json()["devices"]
    remembered = next(d for d in listed if d["id"] == device_id)
    assert remembered["signed_in"] is False and remembered["trusted"] is True
    assert remembered["name"] == "Firefox on Linux"
    assert all(d["signed_in"] for d in listed if d["id"] != device_id)
    one = client.get(f"{BASE}/devices/{device_id}", headers=bearer(token))
    assert one.status_code == 200 and one.get_json()["trusted_until"]
    refused = client.post(f"{BASE}/devices/{device_id}/trust", headers=bearer(token))
    assert refused.status_code == 403
    untrusted = client.delete(f"{BASE}/devices/{device_id}/trust", headers=bearer(token))
    assert untrusted.status_code == 200 and untrusted.get_json()["trusted"] is False
    assert client.get(f"{BASE}/devices/{device_id}", headers=bearer(token)).status_code == 404
    assert client.delete(f"{BASE}/devices/{device_id}", headers=bearer(token)
                         ).status_code == 404


def test_deleting_a_remembered_device_forgets_it(client, token, secret, app):
    from app.core import accounts
    from app.core.mfa import trusted_devices
    from app.extensions import db

    with app.app_context():
        device, device_token = trusted_devices.issue(accounts.find_by_email(EMAIL))
        db.session.commit()
        device_id = str(device.id)
    assert "tokens" in login(client, device_token=device_token).get_json()
    listed = client.get(f"{BASE}/devices", headers=bearer(token)).get_json()["devices"]
    # It signed in: the device now shows as that session.
    session_id = next(d["id"] for d in listed if d["trusted"])
    assert session_id != device_id
    client.post(f"{BASE}/auth/logout", headers=bearer(
        login(client, device_token=device_token).get_json()["tokens"]["access_token"]))
    listed = client.get(f"{BASE}/devices", headers=bearer(token)).get_json()["devices"]
    assert [d["id"] for d in listed if not d["signed_in"]] == [device_id]
    forgotten = client.delete(f"{BASE}/devices/{device_id}", headers=bearer(token))
    assert forgotten.status_code == 200
    assert login(client, device_token=device_token).get_json()["mfa_required"] is True
