"""The long-lived service objects create_app() builds from configuration, looked up by core."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.core.passwords import PasswordService
from app.core.throttle import Throttle


@dataclass
class Services:
    passwords: PasswordService
    throttle: Throttle

    @classmethod
    def from_config(cls, config) -> Services:
        storage = config["REDIS_URL"] or "memory://"
        return cls(
            passwords=PasswordService.from_config(config),
            throttle=Throttle(storage, prefix=f"{config['KEY_PREFIX']}:throttle",
                              enabled=config["RATELIMIT_ENABLED"]),
        )


def services() -> Services:
    return current_app.extensions["tessera"]


def setting(name: str):
    return current_app.config[name]
