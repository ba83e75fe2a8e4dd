"""TOTP: set-up shows the secret once, codes work within one step of drift and never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import (
    MfaAlreadyEnabled,
    MfaInvalidCode,
    MfaNotEnabled,
    RateLimited,
    ReauthenticationRequired,
    WrongPassword,
)
from app.core.mfa import totp
from app.extensions import db
from app.models import AuditEvent, TotpFactor
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.mfa_fixtures import CLIENT


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_setup_returns_the_secret_an_otpauth_uri_and_a_png_qr_code(mfa_user, fresh_session):
    setup = totp.begin_setup(mfa_user, session=fresh_session)
    assert len(setup.secret) == 32  # 160 bits of base32
    assert setup.uri.startswith("otpauth://totp/Tessera:ada%40example.com?")
    assert f"secret={setup.secret}" in setup.uri and "issuer=Tessera" in setup.uri
    assert setup.qr_png_data_url.startswith("data:image/png;base64,")
    assert not totp.is_enabled(mfa_user)  # not until a code confirms it


def test_the_issuer_label_follows_the_setting(app, mfa_user, fresh_session):
    app.config["TOTP_ISSUER"] = "Acme ID"
    assert "issuer=Acme%20ID" in totp.begin_setup(mfa_user, session=fresh_session).uri


def test_the_secret_is_encrypted_at_rest(mfa_user, fresh_session):
    setup = totp.begin_setup(mfa_user, session=fresh_session)
    db.session.commit()
    row = db.session.scalar(select(TotpFactor))
    assert setup.secret.encode() not in row.secret_ciphertext
    assert len(row.secret_ciphertext) == 12 + 32 + 16  # nonce, ciphertext, GCM tag


def test_enabling_requires_a_valid_code(mfa_user, fresh_session, clock):
    setup = totp.begin_setup(mfa_user, session=fresh_session)
    wrong = "000000" if clock.code(setup.secret) != "000000" else "111111"
    with pytest.raises(MfaInvalidCode) as caught:
        totp.enable(mfa_user, wrong, session=fresh_session)
    assert caught.value.code == "mfa_invalid_code"
    assert not totp.is_enabled(mfa_user)
    totp.enable(mfa_user, clock.code(setup.secret), session=fresh_session, client=CLIENT)
    assert totp.is_enabled(mfa_user)
    assert len(events("mfa.totp_enabled")) == 1


def test_enabling_without_setup_or_twice_is_refused(mfa_user, fresh_session, totp_secret, clock):
    with pytest.raises(MfaAlreadyEnabled):
        totp.begin_setup(mfa_user, session=fresh_session)
    with pytest.raises(MfaAlreadyEnabled):
        totp.enable(mfa_user, clock.code(totp_secret), session=fresh_session)


def test_setup_needs_a_recent_authentication(mfa_user, fresh_session):
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(ReauthenticationRequired) as caught:
        totp.begin_setup(mfa_user, session=fresh_session)
    assert caught.value.code == "reauthentication_required"
    with pytest.raises(ReauthenticationRequired):
        totp.begin_setup(mfa_user, session=None)


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_a_code_one_step_either_side_is_accepted(mfa_user, totp_secret, clock, steps):
    totp.verify(mfa_user, clock.code(totp_secret, steps))


@pytest.mark.parametrize("steps", [-2, 2])
def test_a_code_two_steps_away_is_refused(mfa_user, totp_secret, clock, steps):
    with pytest.raises(MfaInvalidCode):
        totp.verify(mfa_user, clock.code(totp_secret, steps))


def test_a_code_is_accepted_only_once(mfa_user, totp_secret, clock):
    code = clock.code(totp_secret)
    totp.verify(mfa_user, code)
    with pytest.raises(MfaInvalidCode) as caught:
        totp.verify(mfa_user, code)
    assert "already used" in caught.value.message
    assert [e.details["reason"] for e in events("mfa.failed")] == ["replayed_code"]


def test_after_a_code_is_used_older_steps_are_refused_too(mfa_user, totp_secret, clock):
    totp.verify(mfa_user, clock.code(totp_secret, 1))
    with pytest.raises(MfaInvalidCode):
        totp.verify(mfa_user, clock.code(totp_secret, 0))
    clock.advance(2 * totp.STEP_SECONDS)
    totp.verify(mfa_user, clock.code(totp_secret))


def test_malformed_codes_are_refused_without_a_lookup(mfa_user, totp_secret):
    for code in (None, "", "12345", "1234567", "abcdef", 123456):
        with pytest.raises(MfaInvalidCode):
            totp.verify(mfa_user, code)


def test_verifying_without_the_factor_is_not_enabled(mfa_user):
    with pytest.raises(MfaNotEnabled) as caught:
        totp.verify(mfa_user, "123456")
    assert caught.value.code == "mfa_not_enabled"


def test_code_checks_per_account_are_rate_limited(app, mfa_user, totp_secret):
    app.config["MFA_CODE_LIMIT"] = "3 per 15 minutes"
    for _ in range(3):
        with pytest.raises(MfaInvalidCode):
            totp.verify(mfa_user, "000000" if totp_secret else "")
    with pytest.raises(RateLimited):
        totp.verify(mfa_user, "000000")


def test_disabling_with_a_valid_code(mfa_user, totp_secret, clock):
    totp.disable(mfa_user, code=clock.code(totp_secret), client=CLIENT)
    assert not totp.is_enabled(mfa_user)
    assert db.session.scalar(select(TotpFactor)) is None
    assert events("mfa.totp_disabled")[0].details == {"proof": "code"}


def test_disabling_with_the_password(mfa_user, totp_secret):
    with pytest.raises(WrongPassword):
        totp.disable(mfa_user, password="not the password")
    assert totp.is_enabled(mfa_user)
    totp.disable(mfa_user, password=DEFAULT_PASSWORD)
    assert not totp.is_enabled(mfa_user)


def test_disabling_with_a_wrong_code_keeps_the_factor(mfa_user, totp_secret, clock):
    with pytest.raises(MfaInvalidCode):
        totp.disable(mfa_user, code=clock.code(totp_secret, 5))
    assert totp.is_enabled(mfa_user)


def test_no_secret_reaches_the_audit_log(mfa_user, fresh_session, clock):
    setup = totp.begin_setup(mfa_user, session=fresh_session)
    code = clock.code(setup.secret)
    totp.enable(mfa_user, code, session=fresh_session)
    logged = repr([(e.event, e.details) for e in db.session.scalars(select(AuditEvent))])
    assert setup.secret not in logged and code not in logged
