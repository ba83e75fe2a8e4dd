"""Helpers for the JSON MFA tests: turning factors on through core (as the hosted pages
would, for dialects whose document has no switch for them) and reading a mailed code."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.core import accounts, sessions
from app.core.context import ClientInfo
from app.core.mfa import email_codes, totp
from app.extensions import db
from app.models import OutboundMail


def _fresh_session(user):
    session, _secret = sessions.start_session(user, client=ClientInfo(), amr=["pwd"])
    return session


def enable_totp(app, email: str, clock) -> str:
    """The authenticator app on for `email`; the clock moves on so later codes are unused."""
    with app.app_context():
        user = accounts.find_by_email(email)
        session = _fresh_session(user)
        setup = totp.begin_setup(user, session=session)
        totp.enable(user, clock.code(setup.secret), session=session)
        db.session.commit()
    clock.advance(60)
    return setup.secret


def enable_email_codes(app, email: str) -> None:
    """Email codes on for `email` (its address marked verified first)."""
    with app.app_context():
        user = accounts.find_by_email(email)
        user.email_verified = True
        email_codes.enable(user, session=_fresh_session(user))
        db.session.commit()


def mailed_code(query) -> str:
    """The newest sign-in code in the outbox."""
    text = query(lambda s: s.scalars(select(OutboundMail.text)
                                     .where(OutboundMail.purpose == "mfa_code")
                                     .order_by(OutboundMail.created_at.desc())).first())
    return re.search(r"\b(\d{6})\b", text).group(1)
