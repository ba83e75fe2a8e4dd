"""Addresses at special-use domains (.test, .localhost, ...): accepted in development for
local accounts, refused in production unless TESSERA_EMAIL_ALLOW_SPECIAL_USE_DOMAINS."""

from __future__ import annotations

import pytest

from app.core import accounts
from app.core.errors import InvalidInput

SPECIAL_USE = ["a@example.test", "A@Example.TEST", "dev@box.localhost", "a@printer.local",
               "a@nowhere.invalid", "a@x.onion", "a@1.0.168.192.in-addr.arpa", "a@test",
               "a@localhost"]
PRODUCTION = {"ENV": "production", "ISSUER": "https://id.example.com"}


@pytest.mark.parametrize("address", SPECIAL_USE)
def test_development_accepts_special_use_domains(app, address):
    with app.app_context():
        assert accounts.normalize_email(address) == address.lower()


@pytest.mark.parametrize("address", SPECIAL_USE)
def test_production_refuses_special_use_domains(app_factory, address):
    with app_factory(**PRODUCTION).app_context():
        with pytest.raises(InvalidInput, match="Enter a valid email address."):
            accounts.normalize_email(address)


@pytest.mark.parametrize("address", SPECIAL_USE)
def test_production_accepts_them_when_the_setting_allows(app_factory, address):
    app = app_factory(**PRODUCTION, EMAIL_ALLOW_SPECIAL_USE_DOMAINS=True)
    with app.app_context():
        assert accounts.normalize_email(address) == address.lower()


@pytest.mark.parametrize("address", ["not-an-email", "a@@example.test", "a@example.test.",
                                     "a b@example.test", "a@-bad-.test", "a@.localhost"])
def test_allowing_them_keeps_every_other_check(app, address):
    with app.app_context():
        with pytest.raises(InvalidInput):
            accounts.normalize_email(address)


def test_ordinary_domains_are_unchanged_in_production(app_factory):
    with app_factory(**PRODUCTION).app_context():
        assert accounts.normalize_email(" Ada@Example.COM ") == "ada@example.com"
        assert accounts.normalize_email("ops@host.internal") == "ops@host.internal"
