"""Which second factors a user has enrolled, and which one login offers first.

Below trusted devices and the status summary: trusting a device needs to know that a
second factor is on, and the summary lists what is enrolled.
"""

from __future__ import annotations

from app.core import audit
from app.core.context import ClientInfo
from app.core.errors import InvalidInput, MfaNotEnabled
from app.core.mfa import email_codes, factors, passkeys, recovery_codes, totp, user_settings
from app.models import User

# Methods a person can pick as preferred; recovery codes are a fallback, never the default.
PREFERABLE = (factors.WEBAUTHN, factors.TOTP, factors.EMAIL)


def enabled_methods(user: User) -> list[str]:
    """The second factors the user can use now, strongest first. Recovery codes count only
    beside another factor."""
    methods = []
    if passkeys.list_credentials(user):
        methods.append(factors.WEBAUTHN)
    if totp.is_enabled(user):
        methods.append(factors.TOTP)
    if email_codes.is_enabled(user):
        methods.append(factors.EMAIL)
    if methods and recovery_codes.remaining(user):
        methods.append(factors.RECOVERY_CODE)
    return methods


def is_enabled(user: User) -> bool:
    """True if a password login of this user needs a second factor."""
    return bool(enabled_methods(user))


def preferred_method(user: User, methods: list[str] | None = None) -> str | None:
    """The user's chosen method if still enabled, else the strongest enabled one."""
    methods = enabled_methods(user) if methods is None else methods
    row = user_settings.find(user)
    if row and row.preferred_method in methods:
        return row.preferred_method
    return next((method for method in methods if method in PREFERABLE), None)


def set_preferred(user: User, method: object, *, client: ClientInfo | None = None) -> None:
    """Choose which method login offers first. Raises InvalidInput (not a method one can
    prefer), MfaNotEnabled (that method is not enabled for the user)."""
    if method not in PREFERABLE:
        raise InvalidInput("Choose one of " + ", ".join(PREFERABLE) + ".", field="method")
    if method not in enabled_methods(user):
        raise MfaNotEnabled(field="method")
    user_settings.get_or_create(user).preferred_method = method
    audit.record(audit.MFA_PREFERRED_CHANGED, user_id=user.id, client=client, method=method)
