"""Fixtures for the hosted page tests: a real SMTP server for mail sent through a dialect, and
the TOTP clock the second-factor pages check codes by."""

from tests.support.mail_fixtures import mail_app, smtp_app_factory, smtp_server  # noqa: F401
from tests.support.mfa_fixtures import clock  # noqa: F401
