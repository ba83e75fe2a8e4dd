"""The MFA summary an account page or status endpoint shows, and the administrator's reset."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core import audit, rbac
from app.core.context import ClientInfo
from app.core.errors import Forbidden
from app.core.mfa import (
    challenges,
    email_codes,
    enrolment,
    passkeys,
    recovery_codes,
    totp,
    trusted_devices,
    user_settings,
)
from app.models import User


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    methods: list[str] = field(default_factory=list)  # strongest first, recovery codes last
    preferred: str | None = None
    totp: bool = False
    email: bool = False
    passkeys: int = 0
    recovery_codes_remaining: int = 0
    trusted_devices: int = 0


def status(user: User) -> MfaStatus:
    """Everything an account page or a status endpoint shows about the user's MFA."""
    methods = enrolment.enabled_methods(user)
    return MfaStatus(
        enabled=bool(methods), methods=methods,
        preferred=enrolment.preferred_method(user, methods),
        totp=totp.is_enabled(user), email=email_codes.is_enabled(user),
        passkeys=len(passkeys.list_credentials(user)),
        recovery_codes_remaining=recovery_codes.remaining(user),
        trusted_devices=len(trusted_devices.list_for_user(user)))


def admin_reset(target: User, *, actor: User, client: ClientInfo | None = None,
                reason: str | None = None) -> None:
    """An administrator removes every factor, passkey, recovery code, trusted device and
    pending MFA login of `target` (audited with the actor). Raises Forbidden for anyone but
    an administrator."""
    if not rbac.is_admin(actor):
        raise Forbidden("Only an administrator may reset another account's MFA.")
    before = enrolment.enabled_methods(target)
    totp.delete_factor(target)
    recovery_codes.delete_all(target)
    passkeys.delete_all(target)
    row = user_settings.find(target)
    if row is not None:
        row.email_enabled, row.preferred_method = False, None
    trusted_devices.revoke_all(target, reason="mfa_reset", client=client)
    challenges.retire_all(target)
    audit.record(audit.MFA_ADMIN_RESET, user_id=target.id, client=client, by=str(actor.id),
                 methods=before, reason=reason)
