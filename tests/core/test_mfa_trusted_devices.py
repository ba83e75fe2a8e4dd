"""Trusted devices: a random cookie token bound to one user, expiring, listed, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import NotFound
from app.core.mfa import trusted_devices
from app.extensions import db
from app.models import TrustedDevice
from app.models.types import utcnow
from tests.support.mfa_fixtures import CLIENT, another_user


def test_a_device_token_is_random_and_stored_hashed(mfa_user):
    device, token = trusted_devices.issue(mfa_user, client=CLIENT)
    assert len(token) >= 43
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert device.label == "pytest browser" and device.ip_address == "203.0.113.7"
    assert abs(device.expires_at - device.created_at - timedelta(days=30)) < timedelta(seconds=1)
    assert trusted_devices.max_age() == 30 * 24 * 3600


def test_a_device_is_recognised_for_its_user_only(mfa_user):
    _device, token = trusted_devices.issue(mfa_user)
    found = trusted_devices.verify(mfa_user, token)
    assert found is not None and found.last_used_at is not None
    other = another_user()
    assert trusted_devices.verify(other, token) is None
    for bad in (None, "", "x" * 500, token + "x"):
        assert trusted_devices.verify(mfa_user, bad) is None


def test_an_expired_device_no_longer_counts(mfa_user):
    device, token = trusted_devices.issue(mfa_user)
    device.expires_at = utcnow() - timedelta(seconds=1)
    assert trusted_devices.verify(mfa_user, token) is None
    assert trusted_devices.list_for_user(mfa_user) == []


def test_the_trust_period_follows_the_setting(app, mfa_user):
    app.config["TRUSTED_DEVICE_DAYS"] = 7
    device, _token = trusted_devices.issue(mfa_user)
    assert abs(device.expires_at - device.created_at - timedelta(days=7)) < timedelta(seconds=1)


def test_devices_are_listed_and_revoked_one_by_one(mfa_user):
    first, first_token = trusted_devices.issue(mfa_user)
    second, second_token = trusted_devices.issue(mfa_user)
    assert {d.id for d in trusted_devices.list_for_user(mfa_user)} == {first.id, second.id}
    other = another_user()
    with pytest.raises(NotFound):
        trusted_devices.revoke(other, first.id)
    with pytest.raises(NotFound):
        trusted_devices.revoke(mfa_user, "not-an-id")
    trusted_devices.revoke(mfa_user, str(first.id), client=CLIENT)
    assert trusted_devices.verify(mfa_user, first_token) is None
    assert trusted_devices.verify(mfa_user, second_token) is not None
    assert [d.id for d in trusted_devices.list_for_user(mfa_user)] == [second.id]


def test_revoking_all_devices(mfa_user):
    tokens = [trusted_devices.issue(mfa_user)[1] for _ in range(3)]
    assert trusted_devices.revoke_all(mfa_user, reason="signed_out_everywhere") == 3
    assert all(trusted_devices.verify(mfa_user, token) is None for token in tokens)
    assert all(row.revoked_at for row in db.session.scalars(select(TrustedDevice)))
    assert trusted_devices.revoke_all(mfa_user, reason="again") == 0


def test_a_password_change_after_trusting_revokes_the_device(mfa_user):
    _device, token = trusted_devices.issue(mfa_user)
    mfa_user.password_changed_at = utcnow()  # what a password reset or change records
    assert trusted_devices.verify(mfa_user, token) is None
    _device, later = trusted_devices.issue(mfa_user)
    assert trusted_devices.verify(mfa_user, later) is not None
