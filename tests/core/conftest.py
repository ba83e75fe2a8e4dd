"""Fixtures for the core tests: a real SMTP server for the mailer and the mail flows, and an
MFA user with a fresh session and a TOTP clock."""

from tests.support.mail_fixtures import mail_app, smtp_app_factory, smtp_server  # noqa: F401
from tests.support.mfa_fixtures import (  # noqa: F401
    clock,
    fresh_session,
    mfa_ctx,
    mfa_user,
    totp_secret,
)
