"""Fixtures for the MFA core tests: a user, a fresh session, a TOTP clock, a software passkey."""

from __future__ import annotations

import pyotp
import pytest

from app.core import accounts, sessions
from app.core.context import ClientInfo
from app.core.mfa import totp
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD

CLIENT = ClientInfo(ip_address="203.0.113.7", user_agent="pytest browser")
# A moment a few seconds into a 30-second step, far from either edge.
T0 = 1_900_000_005.0


class Clock:
    """The time TOTP checks see; codes are computed for steps around it."""

    def __init__(self) -> None:
        self.now = T0

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def code(self, secret: str, steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now + steps * totp.STEP_SECONDS)


@pytest.fixture
def mfa_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def mfa_user(mfa_ctx):
    user = accounts.create_user(email="ada@example.com", password=DEFAULT_PASSWORD,
                                email_verified=True, client=ClientInfo())
    db.session.commit()
    return user


@pytest.fixture
def fresh_session(mfa_user):
    session, _secret = sessions.start_session(mfa_user, client=CLIENT, amr=["pwd"])
    db.session.commit()
    return session


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(totp, "_now", lambda: clock.now)
    return clock


@pytest.fixture
def totp_secret(mfa_user, fresh_session, clock) -> str:
    """TOTP enabled for mfa_user; the clock then moves two steps on, so every code within
    the drift window is still unused."""
    setup = totp.begin_setup(mfa_user, session=fresh_session, client=CLIENT)
    totp.enable(mfa_user, clock.code(setup.secret), session=fresh_session, client=CLIENT)
    db.session.commit()
    clock.advance(2 * totp.STEP_SECONDS)
    return setup.secret


def another_user(email: str = "bob@example.com"):
    """A second account in the test's own session (make_user would open another one)."""
    user = accounts.create_user(email=email, password="another long password",
                                email_verified=True, client=ClientInfo())
    db.session.flush()
    return user
