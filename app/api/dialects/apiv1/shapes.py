"""apiv1's shapes: the request bodies it validates (camelCase attributes: the document's own
field names), the replies it documents, and the success envelope
`{"message", "data", "status"}` with the functions that fill it."""

from __future__ import annotations

from typing import Literal

from app.api.common import Body, Reply
from app.core import api_logins
from app.core.mfa.login import PendingLogin

# The second factors a code may be for; "backup_code" is how people call a recovery code.
Method = Literal["totp", "email", "recovery_code", "backup_code"]


def ok(message: str, data: object = None, status: int = 200):
    return {"message": message, "data": data, "status": status}, status


# --- accounts, sessions and codes --------------------------------------------------------------

class RegisterBody(Body):
    email: str
    password: str
    firstName: str | None = None
    lastName: str | None = None
    phoneNumber: str | None = None


class LoginBody(Body):
    email: str
    password: str
    deviceToken: str | None = None  # a trusted device's token (verify-mfa rememberDevice)


class RefreshBody(Body):
    refreshToken: str


class LogoutBody(Body):
    refreshToken: str | None = None


class ProfileBody(Body):
    firstName: str | None = None
    lastName: str | None = None
    phoneNumber: str | None = None


class ChangePasswordBody(Body):
    currentPassword: str
    newPassword: str


class DeleteAccountBody(Body):
    password: str


class UnlockBody(Body):
    email: str | None = None
    userId: str | None = None


class TokenBody(Body):
    token: str


class EmailBody(Body):
    email: str


class ResetPasswordBody(Body):
    token: str
    password: str


class OtpSendBody(Body):
    method: Literal["email", "sms"]
    # Signed out, during an MFA login: mail that login's sign-in code.
    mfaToken: str | None = None


class EmailOtpBody(Body):
    email: str
    otp: str


class SmsOtpBody(Body):
    phoneNumber: str
    otp: str


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
    password: str | None = None
    code: str | None = None


class EnableBody(Body):
    code: str
    password: str | None = None
    revokeOtherSessions: bool = False  # noqa: N815 - the document's camelCase


class DisableBody(Body):
    code: str | None = None
    password: str | None = None
    revokeOtherSessions: bool = False  # noqa: N815


class VerifyMfaBody(Body):
    code: str
    method: Method = "totp"
    mfaToken: str | None = None  # noqa: N815
    rememberDevice: bool = False  # noqa: N815


class VerifyTotpBody(Body):
    code: str
    mfaToken: str | None = None  # noqa: N815
    rememberDevice: bool = False  # noqa: N815


class ResetUserMfaBody(Body):
    userId: str | None = None  # noqa: N815
    email: str | None = None
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
