"""apiv1's shapes: the request bodies it validates (camelCase attributes: the document's own
field names), the replies it documents, and the success envelope
`{"message", "data", "status"}` with the functions that fill it."""

from __future__ import annotations

from typing import Literal

from app.api.common import Body, Reply
from app.api.fields import Email, Name, NewPassword, Password, Phone, Required
from app.core import api_logins
from app.core.mfa.login import PendingLogin

# The second factors a code may be for; "backup_code" is how people call a recovery code.
Method = Literal["totp", "email", "recovery_code", "backup_code"]


def ok(message: str, data: object = None, status: int = 200):
    return {"message": message, "data": data, "status": status}, status


# --- accounts, sessions and codes --------------------------------------------------------------

class RegisterBody(Body):
    email: Email
    password: NewPassword
    firstName: Name | None = None
    lastName: Name | None = None
    phoneNumber: Phone | None = None


class LoginBody(Body):
    email: Email
    password: Password
    deviceToken: str | None = None  # a trusted device's token (verify-mfa rememberDevice)


class RefreshBody(Body):
    refreshToken: Required


class LogoutBody(Body):
    refreshToken: Required | None = None


class ProfileBody(Body):
    firstName: Name | None = None
    lastName: Name | None = None
    phoneNumber: Phone | None = None


class ChangePasswordBody(Body):
    currentPassword: Password
    newPassword: NewPassword


class DeleteAccountBody(Body):
    password: Password


class UnlockBody(Body):
    email: Email | None = None
    userId: str | None = None


class TokenBody(Body):
    token: Required


class EmailBody(Body):
    email: Email


class ResetPasswordBody(Body):
    token: Required
    password: NewPassword


class OtpSendBody(Body):
    method: Literal["email", "sms"]
    # Signed out, during an MFA login: mail that login's sign-in code.
    mfaToken: str | None = None


class EmailOtpBody(Body):
    email: Email
    otp: Required


class SmsOtpBody(Body):
    phoneNumber: Phone
    otp: Required


class UserOut(Reply):
    id: str
    email: str
    firstName: str
    lastName: str
    phoneNumber: str | None
    isEmailVerified: bool
    isPhoneVerified: bool
    isActive: bool
    createdAt: str
    updatedAt: str | None


class SignInOut(Reply):
    user: UserOut
    accessToken: str
    refreshToken: str
    expiresIn: int


class SessionOut(Reply):
    id: str
    ipAddress: str | None
    userAgent: str | None
    createdAt: str
    lastSeenAt: str
    current: bool


class ActivityOut(Reply):
    type: str
    ipAddress: str | None
    userAgent: str | None
    createdAt: str
    details: dict


class BaseEnvelope(Reply):
    message: str
    status: int


class SignInEnvelope(BaseEnvelope):
    data: SignInOut


class UserEnvelope(BaseEnvelope):
    data: UserOut


class SessionsEnvelope(BaseEnvelope):
    data: list[SessionOut]


class ActivityEnvelope(BaseEnvelope):
    data: list[ActivityOut]


class EmptyEnvelope(BaseEnvelope):
    data: None = None


class RevokedEnvelope(BaseEnvelope):
    data: dict


# --- second factors ----------------------------------------------------------------------------

class SetupBody(Body):
    method: Literal["totp"] = "totp"
    password: Password | None = None
    code: Required | None = None


class EnableBody(Body):
    code: Required
    password: Password | None = None
    revokeOtherSessions: bool = False  # noqa: N815 - the document's camelCase


class DisableBody(Body):
    code: Required | None = None
    password: Password | None = None
    revokeOtherSessions: bool = False  # noqa: N815


class VerifyMfaBody(Body):
    code: Required
    method: Method = "totp"
    mfaToken: str | None = None  # noqa: N815
    rememberDevice: bool = False  # noqa: N815


class VerifyTotpBody(Body):
    code: Required
    mfaToken: str | None = None  # noqa: N815
    rememberDevice: bool = False  # noqa: N815


class ResetUserMfaBody(Body):
    userId: str | None = None  # noqa: N815
    email: Email | None = None
    reason: str | None = None


# The MFA endpoints' envelope: its data varies with the step.
class Envelope(Reply):
    message: str
    status: int
    data: dict | None = None


# --- shaping ---------------------------------------------------------------------------------

def user_out(user) -> dict:
    return {
        "id": str(user.id), "email": user.email, "firstName": user.first_name,
        "lastName": user.last_name, "phoneNumber": user.phone,
        "isEmailVerified": user.email_verified, "isPhoneVerified": user.phone_verified,
        "isActive": user.is_active,
        "createdAt": user.created_at.isoformat(),
        "updatedAt": user.updated_at.isoformat() if user.updated_at else None,
    }


def sign_in_out(issued: api_logins.IssuedTokens) -> dict:
    return {"user": user_out(issued.user), "accessToken": issued.access_token,
            "refreshToken": issued.refresh_token, "expiresIn": issued.expires_in}


def mfa_required_out(pending: PendingLogin):
    return ok("MFA verification required.", {
        "mfaRequired": True, "mfaToken": pending.mfa_token, "methods": pending.methods,
        "preferredMethod": pending.preferred, "expiresIn": pending.expires_in})


def login_answer(result):
    """/login's answer: tokens, or the MFA step."""
    if isinstance(result, PendingLogin):
        return mfa_required_out(result)
    return ok("Login successful.", sign_in_out(result))
