"""Password hashing and policy (core, no HTTP)."""

import pytest

from app.core.errors import WeakPassword
from app.core.passwords import PasswordService

FAST = dict(memory_kib=8192, time_cost=1, parallelism=1, min_length=8, max_length=64)


def test_hashes_are_argon2id_with_the_configured_parameters():
    service = PasswordService(**FAST)
    stored = service.hash("a long enough passphrase")
    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert service.verify(stored, "a long enough passphrase")
    assert not service.verify(stored, "a long enough passphrasE")


def test_changed_parameters_ask_for_a_rehash():
    old = PasswordService(**FAST).hash("a long enough passphrase")
    stronger = PasswordService(**(FAST | {"time_cost": 2}))
    assert stronger.needs_rehash(old)
    assert stronger.verify(old, "a long enough passphrase")
    assert not stronger.needs_rehash(stronger.hash("a long enough passphrase"))


def test_verifying_without_a_stored_hash_never_succeeds():
    service = PasswordService(**FAST)
    assert service.verify(None, "tessera-decoy-password") is False
    assert service.verify("not-a-hash", "anything") is False


@pytest.mark.parametrize("password, reason", [
    ("short", "at least 8"),
    ("x" * 65, "at most 64"),
    ("password123", "too common"),
    ("Password1", "too common"),
    ("aaaaaaaaaaaa", "too common"),
])
def test_policy_refuses_weak_passwords(password, reason):
    with pytest.raises(WeakPassword) as caught:
        PasswordService(**FAST).check_policy(password, field="new_password")
    assert reason in caught.value.message
    assert caught.value.field == "new_password"


def test_policy_refuses_passwords_built_from_the_account():
    with pytest.raises(WeakPassword, match="email or username"):
        PasswordService(**FAST).check_policy("margaret-1987!", personal=("margaret", None))


def test_policy_has_no_composition_rules():
    # Lower-case words only, no digits or symbols: long enough and uncommon is enough.
    PasswordService(**FAST).check_policy("violet river lantern")
    PasswordService(**FAST).check_policy("日本語のパスワードです")
