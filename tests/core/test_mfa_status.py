"""MFA status, the preferred method, recent authentication and the administrator's reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import rbac
from app.core.errors import (
    Forbidden,
    InvalidInput,
    MfaInvalidCode,
    MfaNotEnabled,
    ReauthenticationRequired,
    WrongPassword,
)
from app.core.mfa import (
    amr,
    email_codes,
    enrolment,
    factors,
    login,
    recent_auth,
    recovery_codes,
    status,
    totp,
    trusted_devices,
)
from app.extensions import db
from app.models import AuditEvent, MfaChallenge, RecoveryCode, TotpFactor
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.mfa_fixtures import CLIENT, another_user


def test_status_of_a_user_without_mfa(mfa_user):
    assert status.status(mfa_user) == status.MfaStatus(enabled=False)
    assert not enrolment.is_enabled(mfa_user)


def test_status_lists_every_factor(mfa_user, fresh_session, totp_secret):
    email_codes.enable(mfa_user, session=fresh_session)
    recovery_codes.generate(mfa_user, session=fresh_session)
    trusted_devices.issue(mfa_user)
    assert status.status(mfa_user) == status.MfaStatus(
        enabled=True, methods=["totp", "email", "recovery_code"], preferred="totp", totp=True,
        email=True, passkeys=0, recovery_codes_remaining=10, trusted_devices=1)


def test_recovery_codes_alone_are_not_a_second_factor(mfa_user, fresh_session):
    recovery_codes.generate(mfa_user, session=fresh_session)
    assert enrolment.enabled_methods(mfa_user) == []


def test_the_preferred_method_is_kept_while_enabled(mfa_user, fresh_session, totp_secret,
                                                     clock):
    email_codes.enable(mfa_user, session=fresh_session)
    enrolment.set_preferred(mfa_user, "email", client=CLIENT)
    assert enrolment.preferred_method(mfa_user) == "email"
    with pytest.raises(InvalidInput):
        enrolment.set_preferred(mfa_user, "recovery_code")
    email_codes.disable(mfa_user, session=fresh_session)
    with pytest.raises(MfaNotEnabled):
        enrolment.set_preferred(mfa_user, "email")
    assert enrolment.preferred_method(mfa_user) == "totp"  # the stored choice is gone


def test_a_session_is_recent_for_the_configured_window(app, mfa_user, fresh_session):
    assert recent_auth.is_recent(fresh_session)
    fresh_session.auth_time = utcnow() - timedelta(seconds=599)
    assert recent_auth.is_recent(fresh_session)
    fresh_session.auth_time = utcnow() - timedelta(seconds=601)
    assert not recent_auth.is_recent(fresh_session)
    app.config["MFA_RECENT_AUTH"] = 3600
    assert recent_auth.is_recent(fresh_session)


def test_an_ended_or_foreign_session_is_not_recent(mfa_user, fresh_session):
    with pytest.raises(ReauthenticationRequired):
        recent_auth.require(fresh_session, another_user())
    fresh_session.ended_at = utcnow()
    assert not recent_auth.is_recent(fresh_session)


def test_re_entering_the_password_makes_the_session_recent(mfa_user, fresh_session):
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(WrongPassword):
        recent_auth.confirm_password(fresh_session, "wrong password")
    assert not recent_auth.is_recent(fresh_session)
    recent_auth.confirm_password(fresh_session, DEFAULT_PASSWORD, client=CLIENT)
    assert recent_auth.is_recent(fresh_session)
    assert fresh_session.amr == ["pwd"]
    recovery_codes.generate(mfa_user, session=fresh_session)  # now allowed


def test_a_second_factor_makes_the_session_recent(mfa_user, fresh_session, totp_secret, clock):
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(MfaInvalidCode):
        factors.confirm_factor(fresh_session, "totp", clock.code(totp_secret, 3))
    factors.confirm_factor(fresh_session, "totp", clock.code(totp_secret))
    assert recent_auth.is_recent(fresh_session)
    assert fresh_session.amr == ["pwd", "otp", "mfa"]


def test_amr_values_combine_without_duplicates():
    assert amr.combine(["pwd"], ["otp"]) == ["pwd", "otp", "mfa"]
    assert amr.combine(["pwd"], []) == ["pwd"]
    assert amr.combine(["pwd", "otp", "mfa"], ["otp"]) == ["pwd", "otp", "mfa"]
    assert amr.passkey("multi_device") == "swk" and amr.passkey("single_device") == "hwk"


def test_an_admin_resets_a_users_mfa(mfa_user, fresh_session, totp_secret):
    recovery_codes.generate(mfa_user, session=fresh_session)
    email_codes.enable(mfa_user, session=fresh_session)
    _device, device_token = trusted_devices.issue(mfa_user)
    pending = login.begin(mfa_user, amr=["pwd"])
    admin = another_user("root@example.com")
    rbac.assign_role(admin, "admin")
    status.admin_reset(mfa_user, actor=admin, client=CLIENT, reason="lost phone")
    assert status.status(mfa_user) == status.MfaStatus(enabled=False)
    assert db.session.scalar(select(TotpFactor)) is None
    assert db.session.scalar(select(RecoveryCode)) is None
    assert trusted_devices.verify(mfa_user, device_token) is None
    assert db.session.scalar(select(MfaChallenge.used_at).where(
        MfaChallenge.id == pending.challenge.id)) is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "mfa.admin_reset"))
    assert event.user_id == mfa_user.id
    assert event.details == {"by": str(admin.id), "methods": ["totp", "email", "recovery_code"],
                             "reason": "lost phone"}
    assert not totp.is_enabled(mfa_user)


def test_only_an_admin_may_reset_mfa(mfa_user, totp_secret):
    with pytest.raises(Forbidden):
        status.admin_reset(mfa_user, actor=another_user())
    assert totp.is_enabled(mfa_user)
