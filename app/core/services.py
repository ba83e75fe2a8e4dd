"""The long-lived service objects create_app() builds from configuration, looked up by core.

Also the hooks create_app() wires in: a step a lower module must trigger but may not import
(sign-up sends the verification mail, yet the mail flows import accounts) is a hook list
here, filled by the application factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from app.core.passwords import PasswordService
from app.core.throttle import Throttle


@dataclass
class Services:
    passwords: PasswordService
    throttle: Throttle
    # Called as hook(user, client=ClientInfo | None) after every account created with a
    # password (accounts.create_user), in order.
    on_signup: list[Callable[..., object]] = field(default_factory=list)

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
