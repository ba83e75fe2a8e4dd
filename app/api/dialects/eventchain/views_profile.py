"""eventchain's profile, password change, and the caller's roles and permissions."""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.eventchain.document import dialect
from app.api.dialects.eventchain.shapes import (
    MessageOut,
    PasswordBody,
    PermissionsOut,
    ProfileBody,
    ProfileOut,
    ok,
    profile_out,
)
from app.api.raises import PASSWORD_CHECK, PROFILE
from app.core import accounts, api_logins, rbac

# This document's profile field -> core's
PROFILE_FIELDS = {"firstName": "first_name", "lastName": "last_name", "phone": "phone"}


@dialect.route("/profile", "GET", summary="The caller's profile", response=ProfileOut,
               auth=True)
def profile(caller: api_logins.Principal):
    return ok({"user": profile_out(caller.user)})


@dialect.route("/profile", "PUT", summary="Update the caller's profile", request=ProfileBody,
               response=ProfileOut, auth=True,
               raises=PROFILE)
def update_profile(caller: api_logins.Principal, body: ProfileBody):
    changes = {PROFILE_FIELDS[key]: value
               for key, value in body.model_dump(exclude_unset=True).items()}
    user = accounts.update_profile(caller.user, client=client_info(), **changes)
    return ok({"user": profile_out(user)})


@dialect.route("/password", "PUT", summary="Change password; other sessions end",
               request=PasswordBody, response=MessageOut, auth=True,
               raises=PASSWORD_CHECK)
def change_password(caller: api_logins.Principal, body: PasswordBody):
    accounts.change_password(caller.user, current_password=body.currentPassword,
                             new_password=body.newPassword, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return ok({"message": "Password changed. Other sessions were signed out."})


@dialect.route("/permissions", "GET", summary="The caller's roles and permissions",
               response=PermissionsOut, auth=True)
def permissions(caller: api_logins.Principal):
    return ok({"roles": rbac.role_names(caller.user),
               "permissions": sorted(rbac.permission_names(caller.user))})
