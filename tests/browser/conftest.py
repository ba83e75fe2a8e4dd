"""Fixtures for the browser tests: a real SMTP server for the mailed links, and the TOTP
clock. The live server and Chromium come from tests/support/browser_fixtures.py, registered
once for the whole suite by tests/conftest.py."""

from tests.support.mail_fixtures import mail_app, smtp_app_factory, smtp_server  # noqa: F401
from tests.support.mfa_fixtures import clock  # noqa: F401
