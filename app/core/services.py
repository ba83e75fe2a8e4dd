"""The long-lived service objects create_app() builds from configuration, looked up by core.

Also the hooks by which a lower core module calls a higher one it may not import (sign-up
sends the verification mail, yet the mail flows import accounts; ending every session ends
the pending MFA logins, yet MFA imports sessions); app.core.wiring fills them in for each
app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # Called as hook(user) whenever every session of the user ends (sessions.end_all_sessions):
    # a pending MFA login is a session in the making and must end with them.
    on_all_sessions_ended: list[Callable[..., object]] = field(default_factory=list)
    # The outbox's channels in delivery order: modules (or objects) with active(),
    # deliver_due() and next_due_in().
    outbox_channels: list[Any] = field(default_factory=list)
    # Signed-out mail request kind -> handler(address, client=ClientInfo, **options).
    mail_request_handlers: dict[str, Callable[..., None]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> Services:
        storage = config["REDIS_URL"] or "memory://"
        return cls(
            passwords=PasswordService.from_config(config),
            throttle=Throttle(storage, prefix=f"{config['KEY_PREFIX']}:throttle",
                              enabled=config["RATELIMIT_ENABLED"],
                              options=config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
        )


def services() -> Services:
    return current_app.extensions["tessera"]


def setting(name: str):
    return current_app.config[name]
