"""/account/security over HTTP: enrolling TOTP, recovery codes, email codes, preference,
passkeys, trusted devices, the re-authentication prompt, and CSRF on every action."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from app.models import AuthSession, RecoveryCode, TotpFactor, WebAuthnCredential
from tests.conftest import fetch_csrf, login, post_form
from tests.support.mfa_pages import (
    age_sessions,
    answer,
    enable_totp,
    enrol_passkey,
    make_recovery_codes,
    password_step,
)

SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')


@pytest.fixture
def person(client, make_user):
    user = make_user(email_verified=True)
    login(client, user["email"])
    return user


def page(client, path="/account/security") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_security_pages_send_a_stranger_to_login(client):
    for path in ("/account/security", "/account/security/totp", "/account/security/confirm"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login?next=")


def test_the_account_navigation_links_to_security(client, person):
    assert 'href="/account/security"' in page(client, "/account")
    html = page(client)
    assert "Two-step verification" in html and "Signing in needs only your password" in html
    assert "No passkeys yet." in html and "0 of 10 recovery codes left." in html


def test_security_page_carries_the_security_headers_and_loads_the_script(client, person):
    response = client.get("/account/security")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "img-src 'self' data:" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert '<script src="/static/webauthn.js"' in html and "<script>" not in html


def test_totp_set_up_shows_a_qr_code_and_a_code_turns_it_on_with_recovery_codes(
        client, person, query, clock):
    html = page(client, "/account/security/totp")
    assert 'src="data:image/png;base64,' in html
    secret = SECRET_ON_PAGE.search(html).group(1)
    assert SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1) == secret
    wrong = post_form(client, "/account/security/totp", {"code": "12"})
    assert wrong.status_code == 401 and "Enter the 6-digit code" in wrong.get_data(as_text=True)
    assert secret in wrong.get_data(as_text=True)  # the same key, shown again
    done = post_form(client, "/account/security/totp", {"code": clock.code(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-z]{5}-[0-9a-z]{5})</code></li>",
                       done.get_data(as_text=True))
    assert len(codes) == 10
    assert query(lambda s: s.scalar(select(TotpFactor)).confirmed_at) is not None
    html = page(client)
    assert "10 of 10 recovery codes left." in html and "Remove authenticator app" in html
    assert client.get("/account/security/totp").status_code == 303
    assert "already set up" in page(client)


def test_totp_set_up_without_csrf_is_refused(client, person, query, clock):
    secret = SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1)
    response = client.post("/account/security/totp", data={"code": clock.code(secret)})
    assert response.status_code == 400
    assert query(lambda s: s.scalar(select(TotpFactor)).confirmed_at) is None


def test_a_new_key_can_be_asked_for_before_confirming(client, person):
    first = SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1)
    response = post_form(client, "/account/security/totp/restart", {},
                         csrf_path="/account/security/totp")
    assert response.status_code == 303
    second = SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1)
    assert first != second


def test_removing_totp_needs_a_code_or_the_password(app, client, person, query, clock):
    secret = enable_totp(app, person, clock)
    response = post_form(client, "/account/security/totp/disable",
                         {"disable-code": "000000" if clock.code(secret) != "000000"
                          else "111111"}, csrf_path="/account/security")
    assert response.status_code == 303
    assert "That code is not correct." in page(client)
    post_form(client, "/account/security/totp/disable", {"disable-password": "wrong one"},
              csrf_path="/account/security")
    assert query(lambda s: s.scalar(select(TotpFactor))) is not None
    post_form(client, "/account/security/totp/disable",
              {"disable-password": person["password"]}, csrf_path="/account/security")
    assert query(lambda s: s.scalar(select(TotpFactor))) is None
    assert "Authenticator app removed." in page(client)


def test_recovery_codes_are_shown_once_and_replace_the_old_set(app, client, person, query):
    old = make_recovery_codes(app, person)
    response = post_form(client, "/account/security/recovery-codes", {},
                         csrf_path="/account/security")
    assert response.status_code == 200
    new = re.findall(r"<li><code>([0-9a-z-]{11})</code></li>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert query(lambda s: len(s.scalars(select(RecoveryCode)).all())) == 10
    assert new[0] not in page(client)  # never shown again
    assert "10 of 10 recovery codes left." in page(client)


def test_email_codes_turn_on_and_off(client, person):
    post_form(client, "/account/security/email", {}, csrf_path="/account/security")
    assert "Sign-in codes by email turned on." in page(client)
    assert "Turn off email codes" in page(client)
    post_form(client, "/account/security/email", {}, csrf_path="/account/security")
    assert "Sign-in codes by email turned off." in page(client)


def test_email_codes_need_a_verified_address(client, make_user):
    user = make_user(email_verified=False)
    login(client, user["email"])
    post_form(client, "/account/security/email", {}, csrf_path="/account/security")
    assert "Verify your email address" in page(client)


def test_the_preferred_method_is_saved_and_checked(app, client, person, clock):
    enable_totp(app, person, clock)
    enrol_passkey(app, person)
    assert "Save preference" in page(client)
    post_form(client, "/account/security/preferred", {"method": "email"},
              csrf_path="/account/security")
    assert "This second factor is not enabled." in page(client)
    post_form(client, "/account/security/preferred", {"method": "recovery_code"},
              csrf_path="/account/security")
    assert "Choose one of" in page(client)
    post_form(client, "/account/security/preferred", {"method": "totp"},
              csrf_path="/account/security")
    assert "Authenticator app will be asked for first." in page(client)


def test_passkeys_are_listed_renamed_and_removed(app, client, person, query):
    _authenticator, credential_id = enrol_passkey(app, person, name="Laptop")
    html = page(client)
    assert "Laptop" in html and "never used" in html and "Added " in html
    post_form(client, f"/account/security/passkeys/{credential_id}/rename",
              {"name": "  Work   laptop "}, csrf_path="/account/security")
    assert "Passkey renamed to “Work laptop”." in page(client)
    post_form(client, f"/account/security/passkeys/{credential_id}/rename",
              {"name": "x" * 150}, csrf_path="/account/security")
    assert "Names are at most 100 characters." in page(client)
    post_form(client, f"/account/security/passkeys/{credential_id}/rename", {"name": ""},
              csrf_path="/account/security")
    assert "This field is required." in page(client)
    post_form(client, f"/account/security/passkeys/{credential_id}/delete", {},
              csrf_path="/account/security")
    assert "Passkey removed." in page(client)
    assert query(lambda s: s.scalar(select(WebAuthnCredential))) is None


def test_someone_else_s_passkey_or_device_is_not_found(app, client, person, make_user):
    other = make_user()
    _authenticator, credential_id = enrol_passkey(app, other)
    for path in (f"/account/security/passkeys/{credential_id}/delete",
                 "/account/security/passkeys/not-an-id/delete",
                 "/account/security/devices/not-a-uuid/revoke"):
        assert post_form(client, path, {}, csrf_path="/account/security").status_code == 303
    assert "not found" in page(client)


def test_trusted_devices_are_listed_and_revoked(app, client, make_user, clock):
    user = make_user(email_verified=True)
    secret = enable_totp(app, user, clock)
    password_step(client, user["email"])
    answer(client, "totp", clock.code(secret), remember=True)
    html = page(client)
    device_id = re.search(r'data-device-id="([0-9a-f-]+)"', html).group(1)
    response = post_form(client, f"/account/security/devices/{device_id}/revoke", {},
                         csrf_path="/account/security")
    assert response.status_code == 303
    html = page(client)
    assert "will be asked for a second factor again" in html and "No trusted devices." in html


def test_sign_out_everywhere_ends_the_other_sessions(app, client, person, query):
    other = app.test_client()
    login(other, person["email"])
    post_form(client, "/account/security/sign-out-everywhere", {},
              csrf_path="/account/security")
    assert "Signed out 1 other session" in page(client)
    assert other.get("/account").status_code == 302
    live = query(lambda s: s.scalars(select(AuthSession).where(
        AuthSession.ended_at.is_(None))).all())
    assert len(live) == 1


@pytest.mark.parametrize("path", [
    "/account/security/totp/restart", "/account/security/totp/disable",
    "/account/security/recovery-codes", "/account/security/email",
    "/account/security/preferred", "/account/security/passkeys/x/rename",
    "/account/security/passkeys/x/delete", "/account/security/devices/x/revoke",
    "/account/security/sign-out-everywhere", "/account/security/confirm",
])
def test_every_security_action_refuses_a_post_without_csrf(client, person, path):
    response = client.post(path, data={"method": "totp", "name": "n", "password": "p"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


# --- re-authentication ---------------------------------------------------------------------

def test_an_old_session_is_asked_to_confirm_and_returns_to_the_page(app, client, person):
    age_sessions(app, person)
    response = client.get("/account/security/totp")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/account/security/confirm?next=/account/security/totp")
    assert "Confirm it is you" in page(client, response.headers["Location"])
    wrong = post_form(client, response.headers["Location"], {"password": "not it"})
    assert wrong.status_code == 400
    assert "The current password is incorrect." in wrong.get_data(as_text=True)
    right = post_form(client, response.headers["Location"], {"password": person["password"]})
    assert right.status_code == 303 and right.headers["Location"] == "/account/security/totp"
    assert "data:image/png;base64," in page(client, "/account/security/totp")


@pytest.mark.parametrize("path", ["/account/security/recovery-codes",
                                  "/account/security/email"])
def test_an_action_on_an_old_session_goes_to_the_confirm_prompt(app, client, person, path,
                                                                query):
    token = fetch_csrf(client, "/account/security")
    age_sessions(app, person)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/account/security/confirm?next=/account/security")
    assert query(lambda s: s.scalar(select(RecoveryCode))) is None


def test_confirming_with_an_authenticator_code_works_too(app, client, person, clock):
    secret = enable_totp(app, person, clock)
    age_sessions(app, person)
    path = "/account/security/confirm?next=/account/security"
    assert "Or use" in page(client, path)
    empty = post_form(client, path, {"password": "", "code": ""})
    assert empty.status_code == 400 and "Enter your password or a code." in empty.get_data(
        as_text=True)
    response = post_form(client, path, {"method": "totp", "code": clock.code(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/account/security"


def test_the_confirm_prompt_only_returns_to_local_pages(client, person):
    response = post_form(client, "/account/security/confirm?next=https://evil.example/",
                         {"password": person["password"]})
    assert response.headers["Location"] == "/account/security"


def test_totp_codes_from_the_page_secret_work_with_pyotp(client, person, clock):
    secret = SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1)
    assert pyotp.TOTP(secret).at(clock.now) == clock.code(secret)


def test_turning_on_totp_can_sign_out_the_other_sessions(app, client, person, clock):
    other = app.test_client()
    login(other, person["email"])
    secret = SECRET_ON_PAGE.search(page(client, "/account/security/totp")).group(1)
    done = post_form(client, "/account/security/totp",
                     {"code": clock.code(secret), "end_others": "y"})
    assert done.status_code == 200
    assert "Signed out 1 other session." in done.get_data(as_text=True)
    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_a_person_with_a_factor_and_no_recovery_codes_is_nudged_to_make_them(app, client,
                                                                             person):
    assert 'id="recovery-nudge"' not in page(client)
    enrol_passkey(app, person)
    assert "You have no recovery codes." in page(client)
    make_recovery_codes(app, person)
    assert 'id="recovery-nudge"' not in page(client)
