"""eventchain's shapes: the request bodies it validates, the replies it documents (each in
the `{"success": true, "data"}` envelope), and the functions that build them."""

from __future__ import annotations

from pydantic import create_model

from app.api.common import Body, Reply
from app.api.fields import Email, Name, NewPassword, Password, Phone, Required
from app.core import api_logins, rbac

# The document gives a user one role; of several held, the most privileged is shown.
ROLE_PRECEDENCE = ("admin", "organizer", "attendee")


class RegisterBody(Body):
    email: Email
    password: NewPassword
    firstName: Name
    lastName: Name
    role: str | None = None


class LoginBody(Body):
    email: Email
    password: Password


class RefreshBody(Body):
    refreshToken: Required


class ProfileBody(Body):
    firstName: Name | None = None
    lastName: Name | None = None
    phone: Phone | None = None


class PasswordBody(Body):
    currentPassword: Password
    newPassword: NewPassword


class EmailBody(Body):
    email: Email


class TokenBody(Body):
    token: Required


class ResetConfirmBody(Body):
    token: Required
    newPassword: NewPassword


class UserOut(Reply):
    id: str
    email: str
    firstName: str
    lastName: str
    role: str | None


class RegisteredUserOut(UserOut):
    isVerified: bool


class ProfileUserOut(RegisteredUserOut):
    phone: str | None
    createdAt: str


class RegisterData(Reply):
    user: RegisteredUserOut
    message: str


class TokensData(Reply):
    accessToken: str
    refreshToken: str
    user: UserOut
    expiresIn: int


class ProfileData(Reply):
    user: ProfileUserOut


class MessageData(Reply):
    message: str


class PermissionsData(Reply):
    roles: list[str]
    permissions: list[str]


def _envelope(name: str, data: type[Reply]) -> type[Reply]:
    return create_model(name, __base__=Reply, __module__=__name__,
                        success=(bool, True), data=(data, ...))


RegisterOut = _envelope("RegisterOut", RegisterData)
TokensOut = _envelope("TokensOut", TokensData)
ProfileOut = _envelope("ProfileOut", ProfileData)
MessageOut = _envelope("MessageOut", MessageData)
PermissionsOut = _envelope("PermissionsOut", PermissionsData)


# --- shaping ---------------------------------------------------------------------------------

def ok(data: dict, status: int = 200):
    return {"success": True, "data": data}, status


def role_of(user) -> str | None:
    held = rbac.role_names(user)
    for name in ROLE_PRECEDENCE:
        if name in held:
            return name
    return held[0] if held else None


def user_out(user) -> dict:
    return {"id": str(user.id), "email": user.email, "firstName": user.first_name,
            "lastName": user.last_name, "role": role_of(user)}


def registered_user_out(user) -> dict:
    return user_out(user) | {"isVerified": user.email_verified}


def profile_out(user) -> dict:
    return registered_user_out(user) | {"phone": user.phone,
                                        "createdAt": user.created_at.isoformat()}


def tokens_out(issued: api_logins.IssuedTokens) -> dict:
    return {"accessToken": issued.access_token, "refreshToken": issued.refresh_token,
            "user": user_out(issued.user), "expiresIn": issued.expires_in}
