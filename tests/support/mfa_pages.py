"""Helpers for the hosted MFA page tests: enrol factors through core, sign in through the
pages, read what the browser holds. Plain functions, each in its own app context."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import sessions
from app.core.context import ClientInfo
from app.core.mfa import email_codes, passkeys, recovery_codes, totp
from app.extensions import db
from app.models import AuthSession, User
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD, post_form
from tests.support.csrf import csrf_from
from tests.support.webauthn_authenticator import SoftwareAuthenticator

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _with_fresh_session(app, user: dict, fn):
    """Run fn(user_row, session) with a brand-new (recent) session, which then ends (it
    stands for an earlier visit), and commit."""
    with app.app_context():
        row = db.session.get(User, uuid.UUID(user["id"]))
        session, _secret = sessions.start_session(row, client=ClientInfo(), amr=["pwd"])
        result = fn(row, session)
        session.ended_at, session.end_reason = utcnow(), "logout"
        db.session.commit()
        return result


def enable_totp(app, user: dict, clock) -> str:
    """TOTP on for the user; the clock then moves on so fresh codes are unused."""
    def run(row, session):
        setup = totp.begin_setup(row, session=session)
        totp.enable(row, clock.code(setup.secret), session=session)
        return setup.secret
    secret = _with_fresh_session(app, user, run)
    clock.advance(2 * totp.STEP_SECONDS)
    return secret


def make_recovery_codes(app, user: dict) -> list[str]:
    return _with_fresh_session(
        app, user, lambda row, session: recovery_codes.generate(row, session=session))


def enable_email_codes(app, user: dict) -> None:
    _with_fresh_session(app, user,
                        lambda row, session: email_codes.enable(row, session=session))


def enrol_passkey(app, user: dict, origin: str = "http://localhost",
                  name: str | None = None) -> tuple[SoftwareAuthenticator, str]:
    """A software passkey for the user; returns it and the credential's row id."""
    authenticator = SoftwareAuthenticator(origin)

    def run(row, session):
        options = passkeys.registration_options(row, session=session)
        return str(passkeys.register(row, authenticator.create(options), session=session,
                                     name=name).id)
    return authenticator, _with_fresh_session(app, user, run)


def password_step(client, email: str, password: str = DEFAULT_PASSWORD, next_url=None):
    """Post the login form; returns the response (a redirect to /mfa for MFA users)."""
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, path, {"email": email, "password": password})


def answer(client, method: str, code: str, *, remember: bool = False):
    """Post one factor on the challenge page."""
    data = {"method": method, "code": code}
    if remember:
        data["remember"] = "y"
    return post_form(client, "/mfa", data)


def meta_csrf(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = META_CSRF.search(html)
    return match.group(1) if match else csrf_from(html)


def post_json(client, path: str, body: dict | None = None, *, csrf: str | None = None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(path, json=body if body is not None else {}, headers=headers)


def newest_session(app, user: dict) -> AuthSession | None:
    with app.app_context():
        return db.session.scalar(
            select(AuthSession).where(AuthSession.user_id == uuid.UUID(user["id"]),
                                      AuthSession.ended_at.is_(None))
            .order_by(AuthSession.created_at.desc()).limit(1))


def age_sessions(app, user: dict, seconds: int = 3600) -> None:
    """Make every session of the user authenticated long ago (not recent any more)."""
    with app.app_context():
        db.session.execute(update(AuthSession).where(
            AuthSession.user_id == uuid.UUID(user["id"]))
            .values(auth_time=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()

