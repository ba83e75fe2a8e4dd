"""Signing in with a second factor: a pending challenge after the password, five attempts
counted atomically, single use, expiring, ending with the right amr."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.errors import (
    InvalidInput,
    MfaAttemptsExceeded,
    MfaChallengeExpired,
    MfaChallengeInvalid,
    MfaInvalidCode,
    MfaNotEnabled,
)
from app.core.mfa import challenges, login, passkeys, recovery_codes, trusted_devices
from app.extensions import db
from app.models import MfaChallenge
from app.models.types import utcnow
from tests.support.mfa_fixtures import CLIENT, another_user
from tests.support.webauthn_authenticator import SoftwareAuthenticator


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_no_challenge_without_a_second_factor(mfa_user):
    assert login.begin(mfa_user, amr=["pwd"]) is None
    assert db.session.scalar(select(MfaChallenge)) is None


def test_a_password_login_with_totp_gets_a_pending_challenge(mfa_user, totp_secret):
    pending = login.begin(mfa_user, amr=["pwd"], client=CLIENT, context={"dialect": "apiv1"})
    assert pending.methods == ["totp"] and pending.preferred == "totp"
    assert pending.expires_in == 300
    row = db.session.scalar(select(MfaChallenge))
    assert row.token_hash != pending.mfa_token and len(pending.mfa_token) >= 43
    assert (row.attempts, row.first_factor_amr, row.used_at) == (0, ["pwd"], None)


def test_completing_with_totp_yields_pwd_otp_mfa(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"], context={"dialect": "apiv1"})
    done = login.complete(mfa_token=pending.mfa_token, method="totp",
                          value=clock.code(totp_secret), client=CLIENT)
    assert done.user.id == mfa_user.id
    assert done.amr == ["pwd", "otp", "mfa"]
    assert done.context == {"dialect": "apiv1"} and done.trusted_device_token is None


def test_a_sign_in_link_then_totp_is_still_two_factors(mfa_user, totp_secret, clock):
    # Both steps are one-time secrets (`otp`), but from two independent factors.
    pending = login.begin(mfa_user, amr=["otp"], mailbox_proven=True)
    done = login.complete(mfa_token=pending.mfa_token, method="totp",
                          value=clock.code(totp_secret))
    assert done.amr == ["otp", "mfa"]


def test_the_challenge_is_also_found_by_user_id(mfa_user, totp_secret, clock):
    login.begin(mfa_user, amr=["pwd"])
    done = login.complete(user_id=str(mfa_user.id), method="totp",
                          value=clock.code(totp_secret))
    assert done.amr == ["pwd", "otp", "mfa"]


def test_a_challenge_is_used_once(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"])
    login.complete(mfa_token=pending.mfa_token, method="totp", value=clock.code(totp_secret))
    with pytest.raises(MfaChallengeInvalid) as caught:
        login.complete(mfa_token=pending.mfa_token, method="totp",
                       value=clock.code(totp_secret, 1))
    assert caught.value.code == "mfa_challenge_invalid"
    with pytest.raises(MfaChallengeInvalid):
        login.complete(user_id=mfa_user.id, method="totp", value=clock.code(totp_secret, 1))


def test_a_challenge_expires_after_five_minutes(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"])
    db.session.execute(update(MfaChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(MfaChallengeExpired) as caught:
        login.complete(mfa_token=pending.mfa_token, method="totp",
                       value=clock.code(totp_secret))
    assert caught.value.code == "mfa_challenge_expired"


def test_five_wrong_attempts_end_the_challenge(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"])
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(MfaInvalidCode) as caught:
            login.complete(mfa_token=pending.mfa_token, method="totp",
                           value=wrong(clock.code(totp_secret)))
        assert caught.value.details["attempts_left"] == left
    with pytest.raises(MfaChallengeInvalid):
        login.complete(mfa_token=pending.mfa_token, method="totp",
                       value=clock.code(totp_secret))
    assert db.session.scalar(select(MfaChallenge)).attempts == 5


def test_the_attempt_budget_is_enforced_by_the_update_itself(mfa_user, totp_secret):
    """Two requests that both read attempts=4 cannot both spend the fifth attempt."""
    challenge, _token = challenges.start(mfa_user, amr=["pwd"])
    db.session.execute(update(MfaChallenge).values(attempts=4))
    stale = db.session.get(MfaChallenge, challenge.id)
    challenges.spend_attempt(stale)  # the fifth
    with pytest.raises(MfaAttemptsExceeded) as caught:
        challenges.spend_attempt(stale)
    assert caught.value.code == "mfa_attempts_exceeded" and caught.value.status == 429
    assert db.session.scalar(select(MfaChallenge.attempts)) == 5


def test_the_attempt_budget_follows_the_setting(app, mfa_user, totp_secret, clock):
    app.config["MFA_CHALLENGE_ATTEMPTS"] = 2
    pending = login.begin(mfa_user, amr=["pwd"])
    for _ in range(2):
        with pytest.raises(MfaInvalidCode):
            login.complete(mfa_token=pending.mfa_token, method="totp",
                           value=wrong(clock.code(totp_secret)))
    with pytest.raises(MfaChallengeInvalid):
        login.complete(mfa_token=pending.mfa_token, method="totp",
                       value=clock.code(totp_secret))


def test_a_new_login_retires_the_previous_challenge(mfa_user, totp_secret, clock):
    first = login.begin(mfa_user, amr=["pwd"])
    second = login.begin(mfa_user, amr=["pwd"])
    with pytest.raises(MfaChallengeInvalid):
        login.complete(mfa_token=first.mfa_token, method="totp", value=clock.code(totp_secret))
    login.complete(mfa_token=second.mfa_token, method="totp", value=clock.code(totp_secret))


def test_unknown_tokens_and_users_get_the_same_answer(mfa_user, totp_secret):
    for lookup in ({"mfa_token": "nope"}, {"mfa_token": "x" * 500}, {"user_id": "not-a-uuid"},
                   {"user_id": another_user().id}, {}):
        with pytest.raises(MfaChallengeInvalid) as caught:
            login.complete(method="totp", value="123456", **lookup)
        assert caught.value.code == "mfa_challenge_invalid"


def test_a_method_the_user_has_not_enabled_spends_an_attempt(mfa_user, totp_secret):
    pending = login.begin(mfa_user, amr=["pwd"])
    with pytest.raises(MfaNotEnabled):
        login.complete(mfa_token=pending.mfa_token, method="email", value="123456")
    with pytest.raises(InvalidInput):
        login.complete(mfa_token=pending.mfa_token, method="sms", value="123456")
    assert db.session.scalar(select(MfaChallenge.attempts)) == 2


def test_a_recovery_code_completes_the_login(mfa_user, fresh_session, totp_secret):
    code = recovery_codes.generate(mfa_user, session=fresh_session)[0]
    pending = login.begin(mfa_user, amr=["pwd"])
    assert pending.methods == ["totp", "recovery_code"]
    done = login.complete(mfa_token=pending.mfa_token, method="recovery_code", value=code)
    assert done.amr == ["pwd", "otp", "mfa"]
    assert recovery_codes.remaining(mfa_user) == 9


def test_an_email_code_completes_the_login(mfa_user, fresh_session):
    import re

    from app.core.mfa import email_codes
    from app.models import OutboundMail

    email_codes.enable(mfa_user, session=fresh_session)
    pending = login.begin(mfa_user, amr=["pwd"])
    login.send_email_code(mfa_token=pending.mfa_token, client=CLIENT)
    mail = db.session.scalar(select(OutboundMail).where(OutboundMail.purpose == "mfa_code"))
    code = re.search(r"\b(\d{6})\b", mail.text).group(1)
    done = login.complete(mfa_token=pending.mfa_token, method="email", value=code)
    assert done.amr == ["pwd", "otp", "mfa"]


def test_a_passkey_completes_the_login_with_hwk(mfa_user, fresh_session):
    authenticator = SoftwareAuthenticator()
    options = passkeys.registration_options(mfa_user, session=fresh_session)
    passkeys.register(mfa_user, authenticator.create(options), session=fresh_session)
    pending = login.begin(mfa_user, amr=["pwd"])
    assert pending.preferred == "webauthn"
    options = login.passkey_options(mfa_token=pending.mfa_token)
    done = login.complete(mfa_token=pending.mfa_token, method="webauthn",
                          value={"credential": authenticator.get(options)})
    assert done.amr == ["pwd", "hwk", "mfa"]


def test_remembering_the_device_skips_mfa_next_time(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"])
    done = login.complete(mfa_token=pending.mfa_token, method="totp",
                          value=clock.code(totp_secret), remember_device=True, client=CLIENT)
    assert done.trusted_device_token
    assert login.begin(mfa_user, amr=["pwd"],
                       trusted_device_token=done.trusted_device_token) is None
    trusted_devices.revoke_all(mfa_user, reason="signed_out_everywhere")
    assert login.begin(mfa_user, amr=["pwd"],
                       trusted_device_token=done.trusted_device_token) is not None


def test_a_locked_account_cannot_finish_its_login(mfa_user, totp_secret, clock):
    pending = login.begin(mfa_user, amr=["pwd"])
    mfa_user.is_locked = True
    with pytest.raises(MfaChallengeInvalid):
        login.complete(mfa_token=pending.mfa_token, method="totp",
                       value=clock.code(totp_secret))
