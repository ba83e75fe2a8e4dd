"""Email codes as a second factor: enabled on a verified address, sent through the outbox,
single-use, expiring."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.errors import (
    InvalidInput,
    MfaAlreadyEnabled,
    MfaCodeExpired,
    MfaInvalidCode,
    MfaNotEnabled,
    RateLimited,
)
from app.core.mfa import email_codes
from app.extensions import db
from app.models import OneTimeToken, OutboundMail
from app.models.types import utcnow
from tests.support.mfa_fixtures import CLIENT


@pytest.fixture
def email_on(mfa_user, fresh_session):
    email_codes.enable(mfa_user, session=fresh_session, client=CLIENT)
    db.session.commit()


def sent_code() -> str:
    mail = db.session.scalars(select(OutboundMail).where(OutboundMail.purpose == "mfa_code")
                              .order_by(OutboundMail.created_at.desc())).first()
    return re.search(r"\b(\d{6})\b", mail.text).group(1)


def test_enable_and_disable(mfa_user, fresh_session):
    assert not email_codes.is_enabled(mfa_user)
    email_codes.enable(mfa_user, session=fresh_session)
    assert email_codes.is_enabled(mfa_user)
    with pytest.raises(MfaAlreadyEnabled):
        email_codes.enable(mfa_user, session=fresh_session)
    email_codes.disable(mfa_user, session=fresh_session)
    assert not email_codes.is_enabled(mfa_user)
    with pytest.raises(MfaNotEnabled):
        email_codes.disable(mfa_user, session=fresh_session)


def test_an_unverified_address_cannot_receive_codes(mfa_user, fresh_session):
    mfa_user.email_verified = False
    with pytest.raises(InvalidInput) as caught:
        email_codes.enable(mfa_user, session=fresh_session)
    assert caught.value.field == "email"


def test_the_code_is_mailed_and_verifies_once(mfa_user, email_on):
    email_codes.send(mfa_user, client=CLIENT)
    mail = db.session.scalar(select(OutboundMail).where(OutboundMail.purpose == "mfa_code"))
    assert mail.to == "ada@example.com" and mail.subject == "Your sign-in code"
    code = sent_code()
    assert code in mail.html
    assert db.session.scalar(select(OneTimeToken)).digest != code
    email_codes.verify(mfa_user, code)
    with pytest.raises(MfaInvalidCode):
        email_codes.verify(mfa_user, code)


def test_a_wrong_code_is_refused(mfa_user, email_on):
    email_codes.send(mfa_user)
    wrong = "000000" if sent_code() != "000000" else "111111"
    with pytest.raises(MfaInvalidCode) as caught:
        email_codes.verify(mfa_user, wrong)
    assert caught.value.code == "mfa_invalid_code" and caught.value.durable
    email_codes.verify(mfa_user, sent_code())


def test_an_expired_code_is_refused(mfa_user, email_on):
    email_codes.send(mfa_user)
    db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(MfaCodeExpired) as caught:
        email_codes.verify(mfa_user, sent_code())
    assert caught.value.code == "mfa_code_expired"


def test_a_new_code_retires_the_previous_one(mfa_user, email_on):
    email_codes.send(mfa_user)
    first = sent_code()
    email_codes.send(mfa_user)
    second = sent_code()
    if first != second:
        with pytest.raises(MfaInvalidCode):
            email_codes.verify(mfa_user, first)
    email_codes.verify(mfa_user, second)


def test_nothing_is_sent_or_accepted_when_the_factor_is_off(mfa_user):
    with pytest.raises(MfaNotEnabled):
        email_codes.send(mfa_user)
    with pytest.raises(MfaNotEnabled):
        email_codes.verify(mfa_user, "123456")
    assert db.session.scalar(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")) is None


def test_sends_are_throttled(app, mfa_user, email_on):
    app.config["MAIL_SEND_LIMIT"] = "2 per hour"
    email_codes.send(mfa_user)
    email_codes.send(mfa_user)
    with pytest.raises(RateLimited):
        email_codes.send(mfa_user)
