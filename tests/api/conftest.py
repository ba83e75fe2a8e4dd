"""Fixtures for the dialect tests: a real SMTP server for the mail flows, the TOTP clock, and
the MFA user and session the core calls behind the MFA endpoints start from."""

from tests.support.mail_fixtures import mail_app, smtp_app_factory, smtp_server  # noqa: F401
from tests.support.mfa_fixtures import (  # noqa: F401
    clock,
    fresh_session,
    mfa_ctx,
    mfa_user,
    totp_secret,
)
