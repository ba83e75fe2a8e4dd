"""Password hashing (argon2id) and the password policy.

The policy follows NIST SP 800-63B: a minimum and a generous maximum length, no
composition rules, and a refusal of passwords that are common or derived from the account.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import WeakPassword


class PasswordService:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int,
                 min_length: int, max_length: int) -> None:
        self.hasher = PasswordHasher(
            memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism,
            hash_len=32, salt_len=16, type=Type.ID,
        )
        self.min_length = min_length
        self.max_length = max_length
        # Verified against when the account does not exist, so an unknown email costs
        # the same time as a wrong password.
        self._decoy_hash = self.hasher.hash("tessera-decoy-password")

    @classmethod
    def from_config(cls, config) -> PasswordService:
        return cls(
            memory_kib=config["ARGON2_MEMORY_KIB"], time_cost=config["ARGON2_TIME_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
            min_length=config["PASSWORD_MIN_LENGTH"], max_length=config["PASSWORD_MAX_LENGTH"],
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        try:
            return self.hasher.verify(password_hash or self._decoy_hash, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def check_policy(self, password: str, *, field: str = "password",
                     personal: tuple[str | None, ...] = ()) -> None:
        """Raise WeakPassword naming the field when the password is not acceptable."""
        if not isinstance(password, str) or len(password) < self.min_length:
            raise WeakPassword(
                f"Password must be at least {self.min_length} characters.", field=field
            )
        if len(password) > self.max_length:
            raise WeakPassword(
                f"Password must be at most {self.max_length} characters.", field=field
            )
        lowered = password.lower()
        if lowered in common_passwords() or len(set(password)) < 3:
            raise WeakPassword("This password is too common. Choose another.", field=field)
        for value in personal:
            if value and len(value) >= 4 and value.lower() in lowered:
                raise WeakPassword(
                    "Password must not contain your email or username.", field=field
                )


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("app.core").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )
