"""Tessera's tests, one folder per layer; tests/support/ holds what they (and bench/) share.

A package, so every test module has one dotted name (tests.core.test_mfa_totp beside
tests.browser.test_mfa_totp) and tests.conftest is imported once.
"""
