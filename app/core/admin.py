"""What an administrator does to another person's account, named by id or address.

Above both accounts and MFA in core: it finds the account through one and acts through the
other, so neither needs to import the other for it.
"""

from __future__ import annotations

from app.core import accounts, rbac
from app.core.context import ClientInfo
from app.core.errors import Forbidden, NotFound
from app.core.mfa import status as mfa_status
from app.models import User


def reset_mfa(target: object, *, actor: User, client: ClientInfo | None = None,
              reason: str | None = None) -> User:
    """Remove every second factor of the account named by its id (uuid.UUID or str) or,
    as a str with an @, its email address; returns it. A non-administrator gets Forbidden
    whether or not the account exists (the answer reveals nothing); an unknown account is
    NotFound."""
    if not rbac.is_admin(actor):
        raise Forbidden("Only an administrator may reset another account's MFA.")
    if isinstance(target, str) and "@" in target:
        user = accounts.find_by_email(target)
    else:
        user = accounts.get_user(target) if target is not None else None
    if user is None:
        raise NotFound("User not found.", field="user_id")
    mfa_status.admin_reset(user, actor=actor, client=client, reason=reason)
    return user
