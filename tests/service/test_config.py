"""Configuration comes only from TESSERA_* variables and is validated at start-up."""

import re
from pathlib import Path

import pytest

from config.settings import SETTINGS, ConfigError, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_need_nothing_installed():
    settings = load_settings({"TESSERA_SECRET_KEY": "k" * 40})
    assert settings["DATABASE_URL"].startswith("sqlite:///")
    assert settings["REDIS_URL"] == ""
    assert settings["ISSUER"] == "http://127.0.0.1:5000"
    assert settings["RATELIMIT_ENABLED"] is True
    assert (settings["ARGON2_MEMORY_KIB"], settings["ARGON2_TIME_COST"],
            settings["ARGON2_PARALLELISM"]) == (19456, 2, 1)


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="TESSERA_SECRET_KEY must be set"):
        load_settings({"TESSERA_ENV": "production", "TESSERA_ISSUER": "https://id.example.com"})


def test_production_refuses_a_plain_http_issuer():
    with pytest.raises(ConfigError, match="TESSERA_ISSUER must be an https URL"):
        load_settings({"TESSERA_ENV": "production", "TESSERA_SECRET_KEY": "k" * 40,
                       "TESSERA_ISSUER": "http://id.example.com"})


@pytest.mark.parametrize("name, value, message", [
    ("TESSERA_RATELIMIT_ENABLED", "maybe", "expected true or false"),
    ("TESSERA_SMTP_PORT", "-1", "positive whole number"),
    ("TESSERA_SMTP_PORT", "smtp", "invalid"),
    ("TESSERA_ISSUER", "id.example.com", "http(s) URL"),
    ("TESSERA_SECRET_KEY", "short", "at least 32 characters"),
])
def test_malformed_values_are_refused_naming_the_variable(name, value, message):
    environ = {"TESSERA_SECRET_KEY": "k" * 40, name: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert message in str(caught.value)
    assert "TESSERA_" in str(caught.value)


def test_ratelimits_can_be_switched_off():
    settings = load_settings({"TESSERA_SECRET_KEY": "k" * 40,
                              "TESSERA_RATELIMIT_ENABLED": "false"})
    assert settings["RATELIMIT_ENABLED"] is False


def test_the_readme_lists_every_setting():
    documented = set(re.findall(r"`(TESSERA_[A-Z0-9_]+)`", README.read_text()))
    missing = sorted(setting.env for setting in SETTINGS if setting.env not in documented)
    assert missing == []
