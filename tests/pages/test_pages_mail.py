"""The hosted mail pages over HTTP: verification, password reset, sign-in links."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from flask import current_app
from sqlalchemy import select, update

from app.models import AuditEvent, AuthSession, OneTimeToken, OutboundMail, User
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD, fetch_csrf, login, post_form
from tests.support.mail_fixtures import settle_mail_requests

NEW_PASSWORD = "seven quiet lanterns drifting"
TOKEN_IN_URL = re.compile(r"token=([A-Za-z0-9_-]+)")


def mails(query, purpose):
    query(lambda _s: settle_mail_requests(current_app._get_current_object()))
    return query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == purpose).order_by(OutboundMail.created_at)).all())


def latest_token(query, purpose) -> str:
    return TOKEN_IN_URL.search(mails(query, purpose)[-1].text).group(1)


def expire_all(query, purpose) -> None:
    def run(s):
        s.execute(update(OneTimeToken).where(OneTimeToken.purpose == purpose)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    query(run)


def reset_token_for(client, query, email) -> str:
    response = post_form(client, "/password/forgot", {"email": email})
    assert response.status_code == 200
    return latest_token(query, "password_reset")


# --- forgot password ---------------------------------------------------------------------

def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(client, make_user,
                                                                           query):
    user = make_user()
    known = post_form(client, "/password/forgot", {"email": user["email"]})
    unknown = post_form(client, "/password/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert "Check your email" in known.get_data(as_text=True)
    [mail] = mails(query, "password_reset")
    assert mail.to == user["email"]


@pytest.mark.parametrize("email, message", [("", "This field is required."),
                                            ("not-an-email", "Enter a valid email address.")])
def test_forgot_password_bad_input_is_shown_on_the_form(client, query, email, message):
    response = post_form(client, "/password/forgot", {"email": email})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert mails(query, "password_reset") == []


def test_forgot_password_without_csrf_is_refused(client, make_user, query):
    user = make_user()
    response = client.post("/password/forgot", data={"email": user["email"]})
    assert response.status_code == 400
    assert mails(query, "password_reset") == []


def test_the_login_page_links_to_forgot_password(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


# --- reset password ----------------------------------------------------------------------

def test_reset_sets_the_password_signs_out_everywhere_and_sends_to_login(app, client,
                                                                        make_user, query):
    user = make_user()
    other = app.test_client()
    login(other, user["email"])
    token = reset_token_for(client, query, user["email"])
    path = f"/password/reset?token={token}"
    assert client.get(path).status_code == 200
    response = post_form(client, path, {"password": NEW_PASSWORD,
                                        "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Sign in with your new password" in client.get("/login").get_data(as_text=True)
    assert other.get("/account").status_code == 302  # the other session has ended
    ended = query(lambda s: s.scalars(select(AuthSession.end_reason)).all())
    assert ended == ["password_reset"]
    login(client, user["email"], NEW_PASSWORD)
    # Used once: the link is dead now.
    again = client.get(path)
    assert again.status_code == 400 and "This link is not valid" in again.get_data(as_text=True)


@pytest.mark.parametrize("password, confirm, message", [
    (NEW_PASSWORD, "something else entirely", "Passwords do not match."),
    ("short", "short", "at least 8 characters"),
    ("", "", "This field is required."),
])
def test_reset_bad_input_is_shown_and_keeps_the_link_alive(client, make_user, query,
                                                           password, confirm, message):
    user = make_user()
    token = reset_token_for(client, query, user["email"])
    path = f"/password/reset?token={token}"
    response = post_form(client, path, {"password": password, "password_confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200


def test_reset_without_csrf_is_refused(client, make_user, query):
    user = make_user()
    token = reset_token_for(client, query, user["email"])
    response = client.post(f"/password/reset?token={token}",
                           data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    login(client, user["email"], DEFAULT_PASSWORD)


def test_an_expired_reset_link_says_so(client, make_user, query):
    user = make_user()
    token = reset_token_for(client, query, user["email"])
    expire_all(query, "password_reset")
    response = client.get(f"/password/reset?token={token}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This link has expired" in html and 'href="/password/forgot"' in html


@pytest.mark.parametrize("token", ["", "garbage", "x" * 400])
def test_a_bogus_reset_link_is_not_valid(client, token):
    response = client.get(f"/password/reset?token={token}")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_a_refused_link_leaves_an_audit_event_naming_purpose_and_reason(client, make_user,
                                                                       query):
    user = make_user()
    token = reset_token_for(client, query, user["email"])
    assert client.get("/password/reset?token=made-up").status_code == 400
    expire_all(query, "password_reset")
    assert client.get(f"/password/reset?token={token}",
                      environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 400
    events = query(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.event == "one_time_token.rejected").order_by(AuditEvent.created_at)).all())
    assert [(e.user_id, e.details["reason"]) for e in events] == [
        (None, "unknown"), (uuid.UUID(user["id"]), "expired")]
    assert all(e.details["purpose"] == "password_reset" for e in events)
    assert events[1].ip_address == "198.51.100.7"
    assert token not in str([e.details for e in events])


def test_a_verification_link_is_no_reset_link(client, make_user, query):
    make_user()
    token = latest_token(query, "verify_email")
    assert client.get(f"/password/reset?token={token}").status_code == 400


# --- verify email ------------------------------------------------------------------------

def test_the_verification_link_verifies_once(client, make_user, query):
    user = make_user()
    token = latest_token(query, "verify_email")
    response = client.get(f"/verify-email?token={token}")
    assert response.status_code == 200 and "Email confirmed" in response.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(User.email_verified)))
    assert client.get(f"/verify-email?token={token}").status_code == 400
    assert user


def test_an_expired_or_wrong_purpose_verification_link_fails(client, make_user, query):
    user = make_user()
    reset = reset_token_for(client, query, user["email"])
    assert client.get(f"/verify-email?token={reset}").status_code == 400
    token = latest_token(query, "verify_email")
    expire_all(query, "verify_email")
    response = client.get(f"/verify-email?token={token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert not query(lambda s: s.scalar(select(User.email_verified)))


def test_the_account_page_offers_to_resend_while_unverified(client, make_user, query):
    user = make_user()
    login(client, user["email"])
    page = client.get("/account").get_data(as_text=True)
    assert "Resend verification email" in page
    response = post_form(client, "/account/verify-email/resend", {}, csrf_path="/account")
    assert response.status_code == 303
    assert "We sent a new verification email" in client.get("/account").get_data(as_text=True)
    assert len(mails(query, "verify_email")) == 2
    client.get(f"/verify-email?token={latest_token(query, 'verify_email')}")
    assert "Resend verification email" not in client.get("/account").get_data(as_text=True)


CODE_IN_TEXT = re.compile(r"code: (\d{6})")


def latest_code(query) -> str:
    return CODE_IN_TEXT.search(mails(query, "verify_email")[-1].text).group(1)


def is_verified(query, user) -> bool:
    return query(lambda s: s.scalar(select(User.email_verified).where(
        User.email == user["email"])))


def other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_emailed_code_verifies_a_signed_in_person_from_the_account_page(client,
                                                                              make_user, query):
    user = make_user()
    login(client, user["email"])
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/account/verify-email"' in page and "Code from the email" in page
    response = post_form(client, "/account/verify-email", {"code": latest_code(query)},
                         csrf_path="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "Thank you: your email address is verified." in page
    assert 'id="verify-notice"' not in page
    assert is_verified(query, user)
    # Nothing left to verify: the page sends the person back to the account.
    assert client.get("/account/verify-email").headers["Location"] == "/account"


def test_wrong_codes_show_the_tries_left_then_that_the_code_is_spent(app, client, make_user,
                                                                     query):
    user = make_user()
    login(client, user["email"])
    code = latest_code(query)
    budget = app.config["EMAIL_CODE_ATTEMPTS"]
    for left in range(budget - 1, -1, -1):
        response = post_form(client, "/account/verify-email", {"code": other_code(code)})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "That code is not correct." in html
        if left:
            assert f"{left} tr{'ies' if left != 1 else 'y'} left." in html
        else:
            assert "That was the last try for this code" in html
    response = post_form(client, "/account/verify-email", {"code": code})
    assert response.status_code == 400
    assert "Too many wrong codes. Ask for a new one." in response.get_data(as_text=True)
    assert not is_verified(query, user)
    # A new email brings a new code, with its own tries.
    post_form(client, "/account/verify-email/resend", {}, csrf_path="/account")
    assert post_form(client, "/account/verify-email",
                     {"code": latest_code(query)}).status_code == 303
    assert is_verified(query, user)


@pytest.mark.parametrize("code, message", [("", "This field is required."),
                                           ("12ab56", "Enter the 6-digit code."),
                                           ("1" * 17, "Field cannot be longer than 16")])
def test_a_malformed_code_is_shown_on_the_form_and_spends_no_try(client, make_user, query,
                                                                 code, message):
    user = make_user()
    login(client, user["email"])
    response = post_form(client, "/account/verify-email", {"code": code})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    attempts = query(lambda s: s.scalar(select(OneTimeToken.attempts).where(
        OneTimeToken.kind == "code")))
    assert attempts == 0 and not is_verified(query, user)


def test_the_code_form_needs_csrf_and_a_signed_in_person(app, client, make_user, query):
    user = make_user()
    code = latest_code(query)
    stranger = app.test_client()
    signed_out = stranger.get("/account/verify-email")
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith(
        "/login")
    assert stranger.post("/account/verify-email", data={"code": code}).status_code == 400
    assert post_form(stranger, "/account/verify-email", {"code": code},
                     csrf_path="/login").headers["Location"].startswith("/login")
    login(client, user["email"])
    assert client.post("/account/verify-email", data={"code": code}).status_code == 400
    assert not is_verified(query, user)


def test_resend_without_csrf_is_refused(client, make_user, query):
    user = make_user()
    login(client, user["email"])
    client.post("/account/verify-email/resend")
    assert len(mails(query, "verify_email")) == 1


# --- sign-in links -----------------------------------------------------------------------

def test_a_sign_in_link_from_the_login_page_signs_in(app, client, make_user, query):
    user = make_user()
    response = post_form(client, "/login/magic/send", {"email": user["email"]},
                         csrf_path="/login")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    unknown = post_form(client, "/login/magic/send", {"email": "nobody@example.com"},
                        csrf_path="/login")
    assert unknown.get_data() == response.get_data()
    token = latest_token(query, "magic_link")
    path = f"/login/magic?token={token}"
    assert client.get(path).status_code == 200  # opening the link does not use it
    response = post_form(client, path, {})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    session = query(lambda s: s.scalar(select(AuthSession)))
    assert session.amr == ["otp"]
    again = app.test_client().get(path)
    assert again.status_code == 400 and "This link is not valid" in again.get_data(as_text=True)


def test_a_sign_in_link_post_without_csrf_is_refused(client, make_user, query):
    user = make_user()
    post_form(client, "/login/magic/send", {"email": user["email"]}, csrf_path="/login")
    token = latest_token(query, "magic_link")
    assert client.post(f"/login/magic?token={token}").status_code == 400
    assert query(lambda s: s.scalar(select(AuthSession))) is None


def test_an_expired_or_wrong_purpose_sign_in_link_fails(client, make_user, query):
    user = make_user()
    post_form(client, "/login/magic/send", {"email": user["email"]}, csrf_path="/login")
    token = latest_token(query, "magic_link")
    verification = latest_token(query, "verify_email")
    assert client.get(f"/login/magic?token={verification}").status_code == 400
    expire_all(query, "magic_link")
    response = client.get(f"/login/magic?token={token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    csrf = fetch_csrf(client, "/login")
    assert client.post(f"/login/magic?token={token}",
                       data={"csrf_token": csrf}).status_code == 400


def test_a_bad_address_for_a_sign_in_link_returns_to_login_with_the_reason(client, query):
    response = post_form(client, "/login/magic/send", {"email": "nope"}, csrf_path="/login")
    assert response.status_code == 303
    assert "Enter a valid email address." in client.get("/login").get_data(as_text=True)
    assert mails(query, "magic_link") == []


# --- sign-up links on the hosted landing -------------------------------------------------

SIGN_UP_BUTTON = "Create your account and sign in"


def modernauth_sign_up_link(client, query, email="new@example.com") -> str:
    """The landing path of the sign-up link modernauth mails to an unknown address."""
    assert client.post("/v1/auth/magic-link/send", json={"email": email}).status_code == 200
    return f"/login/magic?token={latest_token(query, 'magic_link')}"


def test_a_sign_up_link_mailed_by_modernauth_creates_the_account_on_the_hosted_page(
        mail_app, smtp_server):
    from urllib.parse import urlsplit

    from tests.support.mail_fixtures import body_of

    web = mail_app.test_client()
    assert web.post("/v1/auth/magic-link/send",
                    json={"email": "new@example.com"}).status_code == 200
    [message] = smtp_server.wait_for(1)
    text = body_of(message)
    assert "no Tessera account for new@example.com" in text
    link = urlsplit(re.search(r"http://\S+/login/magic\?token=\S+", text).group(0))
    path = f"{link.path}?{link.query}"

    def users():
        with mail_app.app_context():
            from app.extensions import db
            return db.session.scalars(select(User).where(User.email == "new@example.com")).all()

    for _ in range(2):  # opening the link (a mail scanner, say) uses nothing up
        page = web.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Create your account" in html and SIGN_UP_BUTTON in html
    assert users() == []

    response = post_form(web, path, {"register": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    account = web.get("/account")
    assert account.status_code == 200
    html = account.get_data(as_text=True)
    assert "Welcome to Tessera. Your account is ready." in html and "new@example.com" in html
    [user] = users()
    assert user.password_hash is None and user.email_verified and user.last_login_at
    with mail_app.app_context():
        from app.extensions import db
        [session] = db.session.scalars(select(AuthSession)).all()
        assert session.user_id == user.id and session.amr == ["otp"]

    again = post_form(mail_app.test_client(), path, {"register": "1"}, csrf_path="/login")
    assert again.status_code == 400
    assert "This link is not valid" in again.get_data(as_text=True)
    assert len(users()) == 1


def test_a_sign_up_link_posted_without_asking_for_the_account_creates_nothing(client,
                                                                               query):
    path = modernauth_sign_up_link(client, query)
    response = post_form(client, path, {})
    assert response.status_code == 403
    assert SIGN_UP_BUTTON in response.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(User))) is None
    assert client.get("/account").status_code == 302  # not signed in
    # The link was kept: asking for the account now works.
    assert post_form(client, path, {"register": "1"}).headers["Location"] == "/account"


def test_a_sign_up_link_post_without_csrf_creates_nothing(client, query):
    path = modernauth_sign_up_link(client, query)
    assert client.post(path, data={"register": "1"}).status_code == 400
    assert query(lambda s: s.scalar(select(User))) is None
    assert client.get(path).status_code == 200


def test_a_sign_up_link_to_an_address_that_has_an_account_since_signs_in_to_it(
        client, make_user, query):
    path = modernauth_sign_up_link(client, query, "late@example.com")
    user = make_user(email="late@example.com")
    page = client.get(path).get_data(as_text=True)
    assert "Continue to sign in" in page and SIGN_UP_BUTTON not in page
    assert post_form(client, path, {}).headers["Location"] == "/account"
    session = query(lambda s: s.scalar(select(AuthSession)))
    assert str(session.user_id) == user["id"]
    assert query(lambda s: len(s.scalars(select(User)).all())) == 1


# --- a sign-in link returns to where the person was going --------------------------------

def sign_in_link_from_login(client, query, email, next_url) -> str:
    """Ask for a link with the login page's button, as /login?next=... renders it."""
    login_path = f"/login?next={quote(next_url, safe='')}"
    html = client.get(login_path).get_data(as_text=True)
    action = re.search(r'formaction="([^"]+)"', html).group(1).replace("&amp;", "&")
    response = post_form(client, action, {"email": email}, csrf_path=login_path)
    assert response.status_code == 200
    return f"/login/magic?token={latest_token(query, 'magic_link')}"


def test_a_sign_in_link_asked_for_during_an_authorization_request_returns_to_it(
        app, client, make_user, query):
    from tests.support.flow import authorize_params, callback_params, make_client
    from tests.support.pkce import pkce_pair

    user = make_user()
    rp = make_client(app, skip_consent=True)
    _verifier, challenge = pkce_pair()
    location = client.get("/oauth2/authorize",
                          query_string=authorize_params(rp, challenge)).headers["Location"]
    next_url = unquote(location.split("next=")[1].split("&")[0])
    assert next_url.startswith("/oauth2/authorize/resume/")
    path = sign_in_link_from_login(client, query, user["email"], next_url)
    response = post_form(client, path, {})
    assert response.status_code == 302 and response.headers["Location"] == next_url
    callback = callback_params(client.get(next_url).headers["Location"])
    assert callback["code"] and callback["state"] == "state-123"


@pytest.mark.parametrize("next_url", ["//evil.example/x", "https://evil.example/",
                                      "/\\evil.example"])
def test_a_sign_in_link_never_continues_off_the_site(client, make_user, query, next_url):
    user = make_user()
    response = post_form(client, f"/login/magic/send?next={quote(next_url, safe='')}",
                         {"email": user["email"]}, csrf_path="/login")
    assert response.status_code == 200
    path = f"/login/magic?token={latest_token(query, 'magic_link')}"
    assert post_form(client, path, {}).headers["Location"] == "/account"
