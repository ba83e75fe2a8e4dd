"""Recovery codes: ten per set, shown once, stored as keyed digests, single-use, replaceable."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import MfaInvalidCode, ReauthenticationRequired
from app.core.mfa import recovery_codes
from app.extensions import db
from app.models import RecoveryCode
from app.models.types import utcnow
from tests.support.mfa_fixtures import another_user


def test_a_set_has_ten_distinct_codes_stored_only_as_digests(mfa_user, fresh_session):
    codes = recovery_codes.generate(mfa_user, session=fresh_session)
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[0-9a-z]{5}-[0-9a-z]{5}", code) for code in codes)
    stored = {row.digest for row in db.session.scalars(select(RecoveryCode))}
    assert len(stored) == 10
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)
    assert recovery_codes.remaining(mfa_user) == 10


def test_a_code_works_once(mfa_user, fresh_session):
    code = recovery_codes.generate(mfa_user, session=fresh_session)[0]
    recovery_codes.consume(mfa_user, code)
    assert recovery_codes.remaining(mfa_user) == 9
    with pytest.raises(MfaInvalidCode) as caught:
        recovery_codes.consume(mfa_user, code)
    assert caught.value.code == "mfa_invalid_code"
    assert recovery_codes.remaining(mfa_user) == 9


def test_codes_are_read_forgivingly(mfa_user, fresh_session):
    codes = recovery_codes.generate(mfa_user, session=fresh_session)
    recovery_codes.consume(mfa_user, "  " + codes[0].upper().replace("-", " ") + " ")
    recovery_codes.consume(mfa_user, codes[1].replace("-", ""))
    assert recovery_codes.remaining(mfa_user) == 8


def test_regenerating_invalidates_the_old_set(mfa_user, fresh_session):
    old = recovery_codes.generate(mfa_user, session=fresh_session)
    new = recovery_codes.generate(mfa_user, session=fresh_session)
    assert not set(old) & set(new)
    with pytest.raises(MfaInvalidCode):
        recovery_codes.consume(mfa_user, old[0])
    recovery_codes.consume(mfa_user, new[0])
    assert recovery_codes.remaining(mfa_user) == 9


def test_one_users_code_is_no_use_to_another(mfa_user, fresh_session):
    code = recovery_codes.generate(mfa_user, session=fresh_session)[0]
    other = another_user()
    with pytest.raises(MfaInvalidCode):
        recovery_codes.consume(other, code)
    assert recovery_codes.remaining(mfa_user) == 10


def test_garbage_is_refused(mfa_user, fresh_session):
    recovery_codes.generate(mfa_user, session=fresh_session)
    for code in (None, "", "short", "x" * 200, 1234567890):
        with pytest.raises(MfaInvalidCode):
            recovery_codes.consume(mfa_user, code)


def test_generating_needs_a_recent_authentication(mfa_user, fresh_session):
    fresh_session.auth_time = utcnow() - timedelta(hours=1)
    with pytest.raises(ReauthenticationRequired):
        recovery_codes.generate(mfa_user, session=fresh_session)
