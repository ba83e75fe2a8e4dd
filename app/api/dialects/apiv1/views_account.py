"""apiv1's account endpoints: the profile, the password, deactivation, deletion and the
failed-login lockout."""

from __future__ import annotations

import uuid

from app.api.common import client_info
from app.api.dialects.apiv1.document import dialect
from app.api.dialects.apiv1.shapes import (
    ChangePasswordBody,
    DeleteAccountBody,
    EmptyEnvelope,
    ProfileBody,
    UnlockBody,
    UserEnvelope,
    ok,
    user_out,
)
from app.api.raises import ADMIN, PASSWORD_CHECK, PROFILE
from app.core import accounts, api_logins
from app.core.errors import InvalidInput

# This document's profile field -> core's
PROFILE_FIELDS = {"firstName": "first_name", "lastName": "last_name", "phoneNumber": "phone"}


@dialect.route("/profile", "GET", summary="Get the profile", response=UserEnvelope, auth=True)
def get_profile(caller: api_logins.Principal):
    return ok("Profile retrieved.", user_out(caller.user))


@dialect.route("/profile", "PUT", summary="Update the profile (fields sent are changed)",
               request=ProfileBody, response=UserEnvelope, auth=True,
               raises=PROFILE)
def update_profile(caller: api_logins.Principal, body: ProfileBody):
    user = accounts.update_profile(caller.user, client=client_info(),
                                   **{PROFILE_FIELDS[name]: getattr(body, name)
                                      for name in body.model_fields_set})
    return ok("Profile updated.", user_out(user))


@dialect.route("/change-password", "POST", summary="Change the password; other sessions end",
               request=ChangePasswordBody, response=EmptyEnvelope, auth=True, limit="password",
               raises=PASSWORD_CHECK)
def change_password(caller: api_logins.Principal, body: ChangePasswordBody):
    accounts.change_password(caller.user, current_password=body.currentPassword,
                             new_password=body.newPassword, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return ok("Password changed. Other sessions were signed out.")


@dialect.route("/deactivate-account", "POST", summary="Deactivate the account",
               response=EmptyEnvelope, auth=True)
def deactivate_account(caller: api_logins.Principal):
    accounts.deactivate(caller.user, client=client_info())
    return ok("Account deactivated.")


@dialect.route("/delete-account", "DELETE", summary="Delete the account (password required)",
               request=DeleteAccountBody, response=EmptyEnvelope, auth=True, limit="password",
               raises=PASSWORD_CHECK)
def delete_account(caller: api_logins.Principal, body: DeleteAccountBody):
    accounts.delete_account(caller.user, password=body.password, client=client_info())
    return ok("Account deleted.")


def _unlock_target(body: UnlockBody) -> uuid.UUID | str | None:
    if body.email is not None and body.userId is not None:
        raise InvalidInput("Send either email or userId, not both.", field="userId")
    if body.userId is not None:
        try:
            return uuid.UUID(body.userId)
        except ValueError:
            raise InvalidInput("userId is not a valid id.", field="userId") from None
    return body.email


@dialect.route("/unlock-account", "POST",
               summary="Reset your own failed-login lockout; an admin may name another account",
               request=UnlockBody, body_required=False, response=UserEnvelope, auth=True,
               raises=ADMIN)
def unlock_account(caller: api_logins.Principal, body: UnlockBody):
    user = accounts.unlock(_unlock_target(body), actor=caller.user, client=client_info())
    return ok("Account unlocked.", user_out(user))
