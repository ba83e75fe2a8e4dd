"""The core calls behind the JSON MFA endpoints, without HTTP: MFA-aware API sign-in,
pending logins bound to their dialect, trusting an API session's device, the first set of
recovery codes, and the administrator's reset by id or address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import admin as administration
from app.core import api_logins
from app.core.errors import (
    Forbidden,
    MfaChallengeInvalid,
    MfaNotEnabled,
    MfaRequired,
    NotFound,
    ReauthenticationRequired,
)
from app.core.mfa import enrolment, factors, recovery_codes, totp, trusted_devices
from app.core.mfa.login import PendingLogin
from app.extensions import db
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD
from tests.support.mfa_fixtures import CLIENT, another_user


def password_login(**kwargs):
    return api_logins.password_login("ada@example.com", DEFAULT_PASSWORD, client=CLIENT,
                                     **kwargs)


def test_without_a_second_factor_a_password_gives_tokens(mfa_user):
    issued = password_login(dialect="modernauth", mfa_methods=factors.METHODS)
    assert issued.access_token and issued.session.amr == ["pwd"]


def test_dialects_without_an_mfa_step_refuse_an_mfa_user(mfa_user, totp_secret):
    with pytest.raises(MfaRequired):
        password_login(dialect="apiauth")


def test_a_pending_login_is_finished_only_in_its_own_dialect(mfa_user, totp_secret, clock):
    pending = password_login(dialect="modernauth", mfa_methods=factors.METHODS)
    assert isinstance(pending, PendingLogin)
    with pytest.raises(MfaChallengeInvalid):
        api_logins.finish_mfa_login(method="totp", value=clock.code(totp_secret),
                                    mfa_token=pending.mfa_token, dialect="apiv1",
                                    client=CLIENT)
    assert pending.challenge.attempts == 0  # refused before an attempt was spent
    issued, device_token = api_logins.finish_mfa_login(
        method="totp", value=clock.code(totp_secret), mfa_token=pending.mfa_token,
        dialect="modernauth", client=CLIENT, remember_device=True)
    assert issued.session.amr == ["pwd", "otp", "mfa"]
    assert trusted_devices.for_session(mfa_user, issued.session.id) is not None
    again = password_login(dialect="modernauth", mfa_methods=factors.METHODS,
                           device_token=device_token)
    assert not isinstance(again, PendingLogin)
    assert trusted_devices.for_session(mfa_user, again.session.id) is not None


def test_cosmicsync_keeps_no_refresh_token_after_mfa(mfa_user, totp_secret, clock):
    pending = password_login(dialect="cosmicsync", mfa_methods=factors.METHODS,
                             with_refresh_token=False)
    issued, _ = api_logins.finish_mfa_login(method="totp", value=clock.code(totp_secret),
                                            mfa_token=pending.mfa_token, dialect="cosmicsync",
                                            client=CLIENT)
    assert issued.refresh_token is None


def test_revoke_all_sessions_forgets_every_trusted_device(mfa_user, totp_secret):
    trusted_devices.issue(mfa_user, client=CLIENT)
    api_logins.revoke_all_sessions(mfa_user, client=CLIENT)
    assert trusted_devices.list_for_user(mfa_user) == []


def test_trusting_a_session_needs_it_recent_and_a_factor(mfa_user, fresh_session, clock):
    with pytest.raises(MfaNotEnabled):
        trusted_devices.trust_session(mfa_user, fresh_session, client=CLIENT)
    setup = totp.begin_setup(mfa_user, session=fresh_session)
    assert totp.setup_pending(mfa_user)
    totp.enable(mfa_user, clock.code(setup.secret), session=fresh_session)
    assert not totp.setup_pending(mfa_user)
    first, _ = trusted_devices.trust_session(mfa_user, fresh_session, client=CLIENT)
    second, _ = trusted_devices.trust_session(mfa_user, fresh_session, client=CLIENT)
    assert first.revoked_at is not None  # one trusted device per session
    assert trusted_devices.for_session(mfa_user, fresh_session.id).id == second.id
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(ReauthenticationRequired):
        trusted_devices.trust_session(mfa_user, fresh_session, client=CLIENT)


def test_the_first_set_of_recovery_codes_is_handed_out_once(mfa_user, fresh_session):
    codes = recovery_codes.first_set(mfa_user, session=fresh_session)
    assert len(codes) == 10
    assert recovery_codes.first_set(mfa_user, session=fresh_session) == []
    assert recovery_codes.remaining(mfa_user) == 10


def test_admin_reset_by_id_or_address(mfa_user, totp_secret):
    from app.core import rbac
    from app.models import Role

    admin = another_user("root@example.com")
    if db.session.query(Role).filter_by(name="admin").first() is None:
        db.session.add(Role(name="admin", description="Administrator", is_system=True))
        db.session.flush()
    stranger = another_user("eve@example.com")
    for target in ("nobody@example.com", str(mfa_user.id)):
        with pytest.raises(Forbidden):
            administration.reset_mfa(target, actor=stranger, client=CLIENT)
    rbac.assign_role(admin, "admin")
    with pytest.raises(NotFound):
        administration.reset_mfa("nobody@example.com", actor=admin, client=CLIENT)
    with pytest.raises(NotFound):
        administration.reset_mfa("not-a-uuid", actor=admin, client=CLIENT)
    assert administration.reset_mfa("ADA@example.com", actor=admin, client=CLIENT) \
        is mfa_user
    assert not enrolment.is_enabled(mfa_user)
