"""Fixtures for the operator-facing tests: a real SMTP server for `tessera mail deliver`."""

from tests.support.mail_fixtures import smtp_server  # noqa: F401
