"""Fixtures for the hosted page tests: the TOTP clock the second-factor pages check codes by."""

from tests.support.mfa_fixtures import clock  # noqa: F401
