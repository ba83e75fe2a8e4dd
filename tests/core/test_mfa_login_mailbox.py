"""After a sign-in link (mailbox_proven), a code by email is no second factor: it would
prove the same mailbox again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import MfaNotEnabled, MfaRequired
from app.core.mfa import email_codes, login
from app.extensions import db
from app.models import MfaChallenge, OutboundMail
from tests.support.mfa_fixtures import CLIENT

LINK_AMR = ["otp"]


@pytest.fixture
def email_on(mfa_user, fresh_session):
    email_codes.enable(mfa_user, session=fresh_session)
    db.session.commit()


def test_a_sign_in_link_of_an_email_only_user_needs_the_password(mfa_user, email_on):
    with pytest.raises(MfaRequired, match="same mailbox"):
        login.begin(mfa_user, amr=LINK_AMR, client=CLIENT, mailbox_proven=True)
    assert db.session.scalar(select(MfaChallenge)) is None


def test_after_a_password_an_email_code_is_still_offered(mfa_user, email_on):
    pending = login.begin(mfa_user, amr=["pwd"], client=CLIENT)
    assert pending.methods == ["email"]


def test_after_a_sign_in_link_email_is_left_out_refused_and_not_sent(mfa_user, email_on,
                                                                     totp_secret, clock):
    pending = login.begin(mfa_user, amr=LINK_AMR, client=CLIENT, context={"next": "/x"},
                          mailbox_proven=True)
    assert pending.methods == ["totp"] and pending.preferred == "totp"
    assert pending.challenge.context == {"next": "/x", "mailbox": True}
    assert login.pending(mfa_token=pending.mfa_token).methods == ["totp"]
    with pytest.raises(MfaNotEnabled, match="same mailbox"):
        login.send_email_code(mfa_token=pending.mfa_token, client=CLIENT)
    assert db.session.scalar(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")) is None
    with pytest.raises(MfaNotEnabled, match="same mailbox") as refused:
        login.complete(method="email", value="123456", mfa_token=pending.mfa_token,
                       client=CLIENT)
    assert refused.value.details["attempts_left"] == 4
    done = login.complete(method="totp", value=clock.code(totp_secret),
                          mfa_token=pending.mfa_token, client=CLIENT)
    assert done.amr == ["otp", "mfa"] and done.context["mailbox"] is True
