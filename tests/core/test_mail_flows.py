"""The mail flows in core: email verification, password reset, sign-in links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from app.core import accounts
from app.core.context import ClientInfo
from app.core.errors import (
    AlreadyVerified,
    InvalidInput,
    OneTimeTokenExpired,
    OneTimeTokenInvalid,
    WeakPassword,
)
from app.core.mail import email_verification, magic_link, password_reset
from app.extensions import db
from app.models import AuditEvent, AuthSession, OneTimeToken, OutboundMail, RefreshToken, User
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.mail_fixtures import body_of, settle_mail_requests
from tests.support.oidc_fixtures import make_grant, refresh_token

CLIENT = ClientInfo(ip_address="203.0.113.9", user_agent="tests")
NEW_PASSWORD = "seven quiet lanterns drifting"
TOKEN_IN_URL = re.compile(r"token=([A-Za-z0-9_-]+)")


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


def signup(email="ada@example.com", **fields):
    user = accounts.create_user(email=email, password=DEFAULT_PASSWORD, client=CLIENT,
                                **fields)
    db.session.commit()
    return user


def carried_out() -> None:
    """Commit what the test did and let the worker carry out the recorded mail requests."""
    db.session.commit()
    settle_mail_requests(current_app._get_current_object())


def outbox(purpose=None) -> list[OutboundMail]:
    carried_out()
    query = select(OutboundMail).order_by(OutboundMail.created_at)
    if purpose:
        query = query.where(OutboundMail.purpose == purpose)
    return list(db.session.scalars(query))


def token_in(mail: OutboundMail) -> str:
    return TOKEN_IN_URL.search(mail.text).group(1)


def events(name) -> list[AuditEvent]:
    carried_out()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


# --- email verification -----------------------------------------------------------------

def test_signup_sends_a_verification_mail_with_a_link_and_a_code(ctx):
    user = signup()
    [mail] = outbox("verify_email")
    assert mail.to == "ada@example.com"
    assert "http://localhost/verify-email?token=" in mail.text
    assert re.search(r"\b\d{6}\b", mail.text)
    assert [e.details["sent"] for e in events("email.verification_sent")] == [True]
    assert not user.email_verified


def test_signup_sends_nothing_when_verification_is_off(app_factory):
    app = app_factory(EMAIL_VERIFICATION=False)
    with app.app_context():
        signup()
        assert outbox() == []


def test_verify_by_link_works_once(ctx):
    user = signup()
    token = token_in(outbox("verify_email")[0])
    assert email_verification.verify_token(token, client=CLIENT).id == user.id
    db.session.commit()
    assert user.email_verified
    assert events("email.verified")[0].details == {"method": "link"}
    with pytest.raises(OneTimeTokenInvalid):
        email_verification.verify_token(token, client=CLIENT)


def test_verify_by_code(ctx):
    user = signup()
    code = re.search(r"\b(\d{6})\b", outbox("verify_email")[0].text).group(1)
    email_verification.verify_code(user, code, client=CLIENT)
    assert user.email_verified
    with pytest.raises(AlreadyVerified):
        email_verification.verify_code(user, code, client=CLIENT)


def test_resend_replaces_the_previous_link_and_refuses_a_verified_account(ctx):
    user = signup()
    first = token_in(outbox("verify_email")[0])
    assert email_verification.resend(user, client=CLIENT) is True
    db.session.commit()
    second = token_in(outbox("verify_email")[1])
    with pytest.raises(OneTimeTokenInvalid):
        email_verification.verify_token(first)
    email_verification.verify_token(second)
    with pytest.raises(AlreadyVerified):
        email_verification.resend(user, client=CLIENT)


# --- password reset ---------------------------------------------------------------------

def test_reset_request_sends_a_link_and_answers_the_same_for_an_unknown_address(ctx):
    signup()
    assert password_reset.request("Ada@Example.com", client=CLIENT) is None
    assert password_reset.request("nobody@example.com", client=CLIENT) is None
    db.session.commit()
    [mail] = outbox("password_reset")
    assert mail.to == "ada@example.com" and "http://localhost/password/reset?token=" in mail.text
    requested = events("password.reset_requested")
    assert sorted(e.details["sent"] for e in requested) == [False, True]


def test_reset_sends_are_throttled_silently_per_address(ctx):
    signup()
    for _ in range(5):
        password_reset.request("ada@example.com", client=CLIENT)
    db.session.commit()
    assert len(outbox("password_reset")) == 3  # TESSERA_MAIL_SEND_LIMIT: 3 per hour


def test_a_malformed_address_is_a_validation_error(ctx):
    with pytest.raises(InvalidInput) as caught:
        password_reset.request("not-an-email", client=CLIENT)
    assert caught.value.field == "email"


def test_reset_sets_the_password_and_ends_every_session_and_refresh_token(app, make_user):
    user = make_user()
    grant = make_grant(app, user)
    refresh_token(app, grant)
    with app.app_context():
        password_reset.request(user["email"], client=CLIENT)
        db.session.commit()
        token = token_in(outbox("password_reset")[0])
        password_reset.reset(token, NEW_PASSWORD, client=CLIENT)
        db.session.commit()
        assert accounts.authenticate(user["email"], NEW_PASSWORD, client=CLIENT)
        assert db.session.get(AuthSession, grant.session_id).end_reason == "password_reset"
        assert [row.revoked_at is not None for row in db.session.scalars(
            select(RefreshToken))] == [True]
        assert events("password.reset")
        with pytest.raises(OneTimeTokenInvalid):
            password_reset.reset(token, "another fine passphrase", client=CLIENT)
        db.session.rollback()


def test_a_weak_password_does_not_use_up_the_reset_token(ctx):
    user = signup()
    password_reset.request(user.email, client=CLIENT)
    token = token_in(outbox("password_reset")[0])
    with pytest.raises(WeakPassword) as caught:
        password_reset.reset(token, "short", client=CLIENT)
    assert caught.value.field == "password"
    password_reset.reset(token, NEW_PASSWORD, client=CLIENT)


def test_an_expired_or_other_purpose_token_does_not_reset(ctx):
    user = signup()
    password_reset.request(user.email, client=CLIENT)
    token = token_in(outbox("password_reset")[0])
    verification = token_in(outbox("verify_email")[0])
    with pytest.raises(OneTimeTokenInvalid) as caught:
        password_reset.reset(verification, NEW_PASSWORD, client=CLIENT)
    assert caught.value.code == "token_invalid"
    db.session.scalar(select(OneTimeToken).where(OneTimeToken.purpose == "password_reset")
                      ).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(OneTimeTokenExpired):
        password_reset.reset(token, NEW_PASSWORD, client=CLIENT)


# --- sign-in links ----------------------------------------------------------------------

def test_a_magic_link_signs_in_once_and_verifies_the_email(ctx):
    user = signup()
    assert magic_link.send(user.email, client=CLIENT) is None
    magic_link.send("nobody@example.com", client=CLIENT)
    db.session.commit()
    [mail] = outbox("magic_link")
    token = token_in(mail)
    assert magic_link.verify(token, client=CLIENT).id == user.id
    assert user.email_verified
    with pytest.raises(OneTimeTokenInvalid):
        magic_link.verify(token, client=CLIENT)
    assert db.session.scalar(select(User).where(User.email == "nobody@example.com")) is None


def test_a_sign_up_link_creates_the_account_only_when_its_use_allows_registration(ctx):
    from app.core.errors import RegistrationNotAllowed

    magic_link.send("new@example.com", client=CLIENT, allow_registration=True)
    db.session.commit()
    assert db.session.scalar(select(User).where(User.email == "new@example.com")) is None
    [mail] = outbox("magic_link")
    assert "no Tessera account" in mail.text
    token = token_in(mail)
    with pytest.raises(RegistrationNotAllowed):
        magic_link.verify(token, client=CLIENT)
    # Refusing left the link unused: allowed this time, it creates the account.
    user = magic_link.verify(token, client=CLIENT, allow_registration=True)
    assert user.email == "new@example.com" and user.password_hash is None
    assert user.email_verified
    with pytest.raises(OneTimeTokenInvalid):
        magic_link.verify(token, client=CLIENT, allow_registration=True)


def test_a_sign_up_link_signs_in_an_account_created_since_it_was_sent(ctx):
    magic_link.send("late@example.com", client=CLIENT, allow_registration=True)
    token = token_in(outbox("magic_link")[0])
    user = signup(email="late@example.com")
    assert magic_link.verify(token, client=CLIENT).id == user.id


def test_a_sign_up_link_is_no_password_reset_token(ctx):
    magic_link.send("new@example.com", client=CLIENT, allow_registration=True)
    with pytest.raises(OneTimeTokenInvalid):
        password_reset.reset(token_in(outbox("magic_link")[0]), NEW_PASSWORD)


def test_a_locked_account_cannot_use_a_magic_link(ctx):
    from app.core.errors import AccountLocked

    user = signup()
    magic_link.send(user.email, client=CLIENT)
    token = token_in(outbox("magic_link")[0])
    user.is_locked = True
    with pytest.raises(AccountLocked):
        magic_link.verify(token)


def test_a_password_reset_token_is_no_magic_link(ctx):
    user = signup()
    password_reset.request(user.email, client=CLIENT)
    with pytest.raises(OneTimeTokenInvalid):
        magic_link.verify(token_in(outbox("password_reset")[0]))


def test_the_reset_mail_arrives_over_smtp(mail_app, smtp_server):
    with mail_app.app_context():
        signup(email_verified=True)
        password_reset.request("ada@example.com", client=CLIENT)
        db.session.commit()
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Reset your password"
    token = TOKEN_IN_URL.search(body_of(message)).group(1)
    assert TOKEN_IN_URL.search(body_of(message, "html")).group(1) == token
    with mail_app.app_context():
        password_reset.reset(token, NEW_PASSWORD)
        db.session.commit()
