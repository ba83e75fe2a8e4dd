"""The hosted second-factor step over HTTP: /mfa after a password or sign-in link, every
factor, attempts, trusted devices, and what the session records (amr, acr)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.core import accounts, acr, sessions
from app.core.context import ClientInfo
from app.extensions import db
from app.models import AuthSession, OutboundMail, TrustedDevice, User
from tests.conftest import DEFAULT_PASSWORD, fetch_csrf, login, post_form
from tests.pages.test_pages_mail import (
    NEW_PASSWORD,
    latest_token,
    reset_token_for,
    sign_in_link_from_login,
)
from tests.support.mfa_pages import (
    answer,
    enable_email_codes,
    enable_totp,
    make_recovery_codes,
    newest_session,
    password_step,
)


@pytest.fixture
def person(make_user):
    return make_user(email_verified=True)


@pytest.fixture
def secret(app, person, clock):
    return enable_totp(app, person, clock)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_a_password_alone_no_longer_signs_in_a_person_with_a_second_factor(
        app, client, person, secret):
    response = password_step(client, person["email"])
    assert response.status_code == 302 and response.headers["Location"] == "/mfa"
    assert client.get_cookie("tessera_session") is None
    assert not signed_in(client)
    page = client.get("/mfa").get_data(as_text=True)
    assert "Two-step verification" in page and "Code from your authenticator app" in page
    assert newest_session(app, person) is None


def test_the_right_totp_code_signs_in_with_amr_and_the_mfa_acr(app, client, person, secret,
                                                              clock):
    password_step(client, person["email"], next_url="/account/sessions")
    response = answer(client, "totp", clock.code(secret))
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/sessions"
    assert signed_in(client)
    session = newest_session(app, person)
    assert session.amr == ["pwd", "otp", "mfa"] and session.acr == acr.MFA


def test_a_person_without_factors_still_signs_in_with_one_factor_acr(app, client, person):
    login(client, person["email"])
    session = newest_session(app, person)
    assert session.amr == ["pwd"] and session.acr == acr.ONE_FACTOR


def test_a_wrong_code_is_a_401_on_the_page_with_the_attempts_left(app, client, person,
                                                                  secret, clock):
    password_step(client, person["email"])
    response = answer(client, "totp", "000000" if clock.code(secret) != "000000" else "111111")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "That code is not correct." in html and "4 attempts left." in html
    assert not signed_in(client)


def test_five_wrong_codes_end_the_pending_login(app, client, person, secret, clock):
    password_step(client, person["email"])
    wrong = "000000" if clock.code(secret) != "000000" else "111111"
    for _ in range(4):
        assert answer(client, "totp", wrong).status_code == 401
    last = answer(client, "totp", wrong)
    assert last.status_code == 303 and last.headers["Location"] == "/login"
    assert "Sign in again" in client.get("/login").get_data(as_text=True)
    # The right code no longer helps: the pending login is over.
    assert client.get("/mfa").headers["Location"] == "/login"
    assert not signed_in(client)


@pytest.mark.parametrize("data, status, message", [
    ({"method": "totp", "code": ""}, 400, "This field is required."),
    ({"method": "", "code": "123456"}, 400, ""),
    ({"method": "carrier-pigeon", "code": "123456"}, 400, "Unknown second-factor method"),
    ({"method": "email", "code": "123456"}, 400, "This second factor is not enabled."),
    ({"method": "totp", "code": "12ab"}, 401, "Enter the 6-digit code"),
])
def test_bad_input_on_the_challenge_page_is_refused_on_the_page(client, person, secret,
                                                                data, status, message):
    password_step(client, person["email"])
    response = post_form(client, "/mfa", data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert not signed_in(client)


def test_the_challenge_page_refuses_a_post_without_csrf(client, person, secret, clock):
    password_step(client, person["email"])
    response = client.post("/mfa", data={"method": "totp", "code": clock.code(secret)})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_the_challenge_page_without_a_pending_login_sends_to_login(client):
    response = client.get("/mfa")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    token = fetch_csrf(client, "/login")
    response = client.post("/mfa", data={"csrf_token": token, "method": "totp",
                                         "code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_replayed_totp_code_is_refused(app, client, person, secret, clock):
    code = clock.code(secret)
    password_step(client, person["email"])
    assert answer(client, "totp", code).status_code == 303
    other = app.test_client()
    password_step(other, person["email"])
    response = answer(other, "totp", code)
    assert response.status_code == 401 and "already used" in response.get_data(as_text=True)


def test_a_recovery_code_signs_in_once(app, client, person, secret):
    codes = make_recovery_codes(app, person)
    password_step(client, person["email"])
    page = client.get("/mfa").get_data(as_text=True)
    assert "Recovery code" in page
    assert answer(client, "recovery_code", codes[0].upper()).status_code == 303
    assert newest_session(app, person).amr == ["pwd", "otp", "mfa"]
    other = app.test_client()
    password_step(other, person["email"])
    assert answer(other, "recovery_code", codes[0]).status_code == 401


def test_an_email_code_is_sent_on_request_and_signs_in(app, client, person, query):
    enable_email_codes(app, person)
    password_step(client, person["email"])
    assert "Email me a code" in client.get("/mfa").get_data(as_text=True)
    response = post_form(client, "/mfa/email", {}, csrf_path="/mfa")
    assert response.status_code == 303
    assert "We sent a code" in client.get("/mfa").get_data(as_text=True)
    mail = query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")).one())
    assert mail.to == person["email"]
    code = re.search(r"code is: (\d{6})", mail.text).group(1)
    assert answer(client, "email", code).status_code == 303
    assert signed_in(client)


def test_sending_an_email_code_needs_csrf_and_a_pending_login(app, client, person, query):
    enable_email_codes(app, person)
    token = fetch_csrf(client, "/login")
    no_login = client.post("/mfa/email", data={"send-csrf_token": token})
    assert no_login.status_code == 303 and no_login.headers["Location"] == "/login"
    password_step(client, person["email"])
    assert client.post("/mfa/email").status_code == 400  # no CSRF token
    assert query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")).all()) == []


def test_a_sign_in_link_asks_for_the_second_factor_too(app, client, person, secret, clock,
                                                       query):
    post_form(client, "/login/magic/send", {"email": person["email"]}, csrf_path="/login")
    path = f"/login/magic?token={latest_token(query, 'magic_link')}"
    response = post_form(client, path, {})
    assert response.status_code == 302 and response.headers["Location"] == "/mfa"
    assert not signed_in(client)
    assert answer(client, "totp", clock.code(secret)).status_code == 303
    assert signed_in(client)
    assert newest_session(app, person).acr == acr.MFA


def test_after_a_sign_in_link_and_the_second_factor_the_person_goes_where_they_were_going(
        app, client, person, secret, clock, query):
    path = sign_in_link_from_login(client, query, person["email"], "/account/sessions")
    response = post_form(client, path, {})
    assert response.headers["Location"] == "/mfa"
    response = answer(client, "totp", clock.code(secret))
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    assert signed_in(client)


def last_login_at(query, person):
    return query(lambda s: s.scalar(select(User.last_login_at).where(
        User.email == person["email"])))


@pytest.mark.parametrize("first_factor", ["password", "sign-in link"])
def test_last_login_is_recorded_when_the_session_starts_not_at_the_first_factor(
        app, client, person, secret, clock, query, first_factor):
    before = last_login_at(query, person)  # the session that enrolled the factor
    if first_factor == "password":
        response = password_step(client, person["email"])
    else:
        post_form(client, "/login/magic/send", {"email": person["email"]}, csrf_path="/login")
        response = post_form(client, f"/login/magic?token={latest_token(query, 'magic_link')}",
                             {})
    assert response.headers["Location"] == "/mfa"
    assert last_login_at(query, person) == before  # a first factor alone is no login
    assert answer(client, "totp", clock.code(secret)).status_code == 303
    assert last_login_at(query, person) == newest_session(app, person).auth_time > before


def test_a_password_reset_does_not_skip_the_second_factor(app, client, person, secret, query):
    token = reset_token_for(client, query, person["email"])
    response = post_form(client, f"/password/reset?token={token}",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(client)
    response = password_step(client, person["email"], NEW_PASSWORD)
    assert response.headers["Location"] == "/mfa"


# --- a pending login ends with the sessions -----------------------------------------------

def step_up_pending(client, person, secret, clock):
    """Signed in with both factors, then asked to confirm again (/mfa/step-up)."""
    password_step(client, person["email"])
    answer(client, "totp", clock.code(secret))
    clock.advance(30)
    assert client.get("/mfa/step-up").headers["Location"] == "/mfa"


def live_sessions(query, person) -> int:
    return query(lambda s: len(s.scalars(select(AuthSession).where(
        AuthSession.user_id == uuid.UUID(person["id"]),
        AuthSession.ended_at.is_(None))).all()))


def end_newest_session(app, person, *, everywhere: bool) -> None:
    with app.app_context():
        session = db.session.get(AuthSession, newest_session(app, person).id)
        if everywhere:
            sessions.end_all_sessions(session.user, reason="revoked_all", client=ClientInfo())
        else:  # signed out from another browser's session list
            sessions.end_session(session, reason="ended_by_user", client=ClientInfo())
        db.session.commit()


def test_a_step_up_of_a_session_ended_meanwhile_opens_no_new_one(app, client, person, secret,
                                                                 clock, query):
    step_up_pending(client, person, secret, clock)
    end_newest_session(app, person, everywhere=False)
    response = answer(client, "totp", clock.code(secret))
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert live_sessions(query, person) == 0
    assert not signed_in(client)


def test_signing_out_everywhere_ends_a_pending_step_up(app, client, person, secret, clock,
                                                       query):
    step_up_pending(client, person, secret, clock)
    end_newest_session(app, person, everywhere=True)
    assert client.get("/mfa").headers["Location"] == "/login"
    assert live_sessions(query, person) == 0


def test_a_password_change_ends_a_pending_login_elsewhere(app, client, person, secret, clock):
    # Someone who knows the old password is waiting at /mfa in another browser.
    other = app.test_client()
    assert password_step(other, person["email"]).headers["Location"] == "/mfa"
    with app.app_context():
        user = db.session.get(User, uuid.UUID(person["id"]))
        accounts.change_password(user, current_password=DEFAULT_PASSWORD,
                                 new_password="a brand new passphrase", client=ClientInfo())
        db.session.commit()
    assert other.get("/mfa").headers["Location"] == "/login"
    assert not signed_in(other)


# --- trusted devices -----------------------------------------------------------------------

def remembered_login(app, client, person, secret, clock):
    password_step(client, person["email"])
    response = answer(client, "totp", clock.code(secret), remember=True)
    assert response.status_code == 303
    cookie = client.get_cookie("tessera_trusted_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    return cookie


def test_a_remembered_device_skips_the_second_factor_with_one_factor_acr(
        app, client, person, secret, clock, query):
    remembered_login(app, client, person, secret, clock)
    trusted_in = newest_session(app, person).id
    assert query(lambda s: s.scalar(select(TrustedDevice)).session_id) == trusted_in
    post_form(client, "/logout", {})
    response = password_step(client, person["email"])
    assert response.headers["Location"] == "/account"
    session = newest_session(app, person)
    assert session.amr == ["pwd"] and session.acr == acr.ONE_FACTOR
    # The device remembers the newest session signed in on it.
    assert query(lambda s: s.scalar(select(TrustedDevice)).session_id) == session.id
    # Another browser (no cookie) is still asked.
    assert password_step(app.test_client(), person["email"]).headers["Location"] == "/mfa"


def test_without_remember_no_device_cookie_is_set(client, person, secret, clock):
    password_step(client, person["email"])
    answer(client, "totp", clock.code(secret))
    assert client.get_cookie("tessera_trusted_device") is None


@pytest.mark.parametrize("path, csrf_path", [
    ("/account/sessions/end-others", "/account/security"),
    ("/account/security/sign-out-everywhere", "/account/security"),
])
def test_signing_out_everywhere_forgets_trusted_devices(app, client, person, secret, clock,
                                                        query, path, csrf_path):
    remembered_login(app, client, person, secret, clock)
    assert post_form(client, path, {}, csrf_path=csrf_path).status_code == 303
    assert query(lambda s: s.scalar(select(TrustedDevice)).revoked_at) is not None
    post_form(client, "/logout", {})
    assert password_step(client, person["email"]).headers["Location"] == "/mfa"


def test_a_password_reset_forgets_trusted_devices(app, client, person, secret, clock, query):
    remembered_login(app, client, person, secret, clock)
    post_form(client, "/logout", {})
    token = reset_token_for(client, query, person["email"])
    post_form(client, f"/password/reset?token={token}",
              {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert password_step(client, person["email"], NEW_PASSWORD).headers["Location"] == "/mfa"


def test_a_session_started_without_mfa_is_not_marked_mfa(app, client, make_user):
    user = make_user()
    login(client, user["email"], DEFAULT_PASSWORD)
    assert newest_session(app, user).acr == acr.ONE_FACTOR
    assert newest_session(app, user).amr == ["pwd"]
    assert isinstance(newest_session(app, user), AuthSession)


def mailed_code(query) -> str:
    mail = query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code").order_by(OutboundMail.created_at.desc())).first())
    return re.search(r"code is: (\d{6})", mail.text).group(1)


def test_an_email_code_after_a_password_is_mfa(app, client, person, query):
    enable_email_codes(app, person)
    password_step(client, person["email"])
    post_form(client, "/mfa/email", {}, csrf_path="/mfa")
    answer(client, "email", mailed_code(query))
    session = newest_session(app, person)
    assert session.amr == ["pwd", "otp", "mfa"] and session.acr == acr.MFA


def sign_in_link(client, query, person):
    post_form(client, "/login/magic/send", {"email": person["email"]}, csrf_path="/login")
    return post_form(client, f"/login/magic?token={latest_token(query, 'magic_link')}", {})


def test_a_sign_in_link_of_a_person_whose_only_factor_is_email_asks_for_the_password(
        app, client, person, query):
    # A code by email would prove the same mailbox as the link.
    enable_email_codes(app, person)
    response = sign_in_link(client, query, person)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Sign in with your password." in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)
    assert client.get("/mfa").headers["Location"] == "/login"


def test_after_a_sign_in_link_the_challenge_offers_no_email_code(app, client, person, secret,
                                                                 clock, query):
    enable_email_codes(app, person)
    assert sign_in_link(client, query, person).headers["Location"] == "/mfa"
    html = client.get("/mfa").get_data(as_text=True)
    assert "Email me a code" not in html and "Code from your authenticator app" in html
    refused = answer(client, "email", "123456")
    assert refused.status_code == 400
    assert "cannot follow a sign-in link" in refused.get_data(as_text=True)
    post_form(client, "/mfa/email", {}, csrf_path="/mfa")
    assert "cannot follow a sign-in link" in client.get("/mfa").get_data(as_text=True)
    assert query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")).all()) == []
    assert answer(client, "totp", clock.code(secret)).status_code == 303
    assert newest_session(app, person).acr == acr.MFA
