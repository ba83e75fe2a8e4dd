"""apiv1 (api-docs 002): success `{"message", "data", "status"}`; errors add `error`.

Field names are the document's camelCase. Core names a field in its own spelling
(`first_name`, `current_password`, ...); the error envelope translates it back, so an error
always names the field the client sent.
"""

from __future__ import annotations

import uuid
from typing import Literal

from app.api import mfa as api_mfa
from app.api.common import (
    Body,
    Reply,
    bearer_token,
    client_info,
    email_in_body,
    principal,
    read_json,
)
from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect
from app.core import accounts, api_logins, audit, sessions
from app.core.errors import ValidationError
from app.core.mail import email_verification, password_reset, phone_verification

# core's field name -> this document's
FIELD_NAMES = {
    "first_name": "firstName", "last_name": "lastName", "phone": "phoneNumber",
    "current_password": "currentPassword", "new_password": "newPassword",
    "refresh_token": "refreshToken", "user_id": "userId",
}


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"message": message, "error": code, "status": status}
    if field:
        body["field"] = FIELD_NAMES.get(field, field)
    return body


dialect = Dialect(
    id="apiv1", title="Authentication API v1", default_mount="/api/v1/auth",
    error_body=error_body,
    # A refresh token that is unknown, spent or revoked is an authentication failure here.
    errors={"invalid_grant": (401, "invalid_grant")},
    rate_limits={**DEFAULT_AUTH_LIMITS, "password": "10 per 15 minutes",
                 "mail": "5 per hour", "code": "10 per 15 minutes"},
)


def ok(message: str, data: object = None, status: int = 200):
    return {"message": message, "data": data, "status": status}, status


# --- schemas -------------------------------------------------------------------------------

class RegisterBody(Body):
    # camelCase attributes: the document's own field names.
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
    # Signed out, during an MFA login: mail that login's sign-in code (see apiv1_mfa).
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


class Envelope(Reply):
    message: str
    status: int


class SignInEnvelope(Envelope):
    data: SignInOut


class UserEnvelope(Envelope):
    data: UserOut


class SessionsEnvelope(Envelope):
    data: list[SessionOut]


class ActivityEnvelope(Envelope):
    data: list[ActivityOut]


class EmptyEnvelope(Envelope):
    data: None = None


class RevokedEnvelope(Envelope):
    data: dict


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


def session_out(row, current_id) -> dict:
    return {"id": str(row.id), "ipAddress": row.ip_address, "userAgent": row.user_agent,
            "createdAt": row.created_at.isoformat(), "lastSeenAt": row.last_seen_at.isoformat(),
            "current": row.id == current_id}


def activity_out(event) -> dict:
    return {"type": event.event, "ipAddress": event.ip_address, "userAgent": event.user_agent,
            "createdAt": event.created_at.isoformat(), "details": dict(event.details or {})}


# --- registration and sign-in ----------------------------------------------------------------

@dialect.route("/register", "POST", summary="Register a user and sign them in",
               request=RegisterBody, response=SignInEnvelope, status=201, limit="register")
def register():
    body = read_json(RegisterBody)
    user = accounts.create_user(email=body.email, password=body.password,
                                first_name=body.firstName, last_name=body.lastName,
                                phone=body.phoneNumber, client=client_info())
    issued = api_logins.start_for_new_user(user, dialect=dialect.id, client=client_info())
    return ok("Registration successful.", sign_in_out(issued), 201)


@dialect.route("/login", "POST", summary="Log in with email and password", request=LoginBody,
               response=SignInEnvelope, limit="login")
def login():
    body = read_json(LoginBody)
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), mfa_methods=api_mfa.CODE_METHODS,
                                       device_token=body.deviceToken)
    return apiv1_mfa.login_answer(result)


@dialect.route("/logout", "POST", summary="Log out: end the refresh token's session",
               request=LogoutBody, body_required=False, response=EmptyEnvelope)
def logout():
    body = read_json(LogoutBody, optional=True)
    api_logins.logout_with_either(bearer_token(), body.refreshToken, dialect=dialect.id,
                                  client=client_info())
    return ok("Logout successful.")


@dialect.route("/refresh", "POST", summary="Rotate the refresh token", request=RefreshBody,
               response=SignInEnvelope, limit="refresh")
def refresh():
    body = read_json(RefreshBody)
    return ok("Token refreshed.", sign_in_out(api_logins.refresh(body.refreshToken,
                                                                  dialect=dialect.id)))


# --- profile and password ----------------------------------------------------------------------

@dialect.route("/profile", "GET", summary="Get the profile", response=UserEnvelope, auth=True)
def get_profile():
    return ok("Profile retrieved.", user_out(principal().user))


@dialect.route("/profile", "PUT", summary="Update the profile (fields sent are changed)",
               request=ProfileBody, response=UserEnvelope, auth=True)
def update_profile():
    caller = principal()
    body = read_json(ProfileBody)
    sent = body.model_fields_set
    core_names = {"firstName": "first_name", "lastName": "last_name", "phoneNumber": "phone"}
    user = accounts.update_profile(caller.user, client=client_info(),
                                   **{core_names[name]: getattr(body, name) for name in sent})
    return ok("Profile updated.", user_out(user))


@dialect.route("/change-password", "POST", summary="Change the password; other sessions end",
               request=ChangePasswordBody, response=EmptyEnvelope, auth=True, limit="password")
def change_password():
    caller = principal()
    body = read_json(ChangePasswordBody)
    accounts.change_password(caller.user, current_password=body.currentPassword,
                             new_password=body.newPassword, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return ok("Password changed. Other sessions were signed out.")


# --- account management ------------------------------------------------------------------------

@dialect.route("/deactivate-account", "POST", summary="Deactivate the account",
               response=EmptyEnvelope, auth=True)
def deactivate_account():
    accounts.deactivate(principal().user, client=client_info())
    return ok("Account deactivated.")


@dialect.route("/delete-account", "DELETE", summary="Delete the account (password required)",
               request=DeleteAccountBody, response=EmptyEnvelope, auth=True, limit="password")
def delete_account():
    caller = principal()
    body = read_json(DeleteAccountBody)
    accounts.delete_account(caller.user, password=body.password, client=client_info())
    return ok("Account deleted.")


def _unlock_target(body: UnlockBody) -> uuid.UUID | str | None:
    if body.email is not None and body.userId is not None:
        raise ValidationError("Send either email or userId, not both.", field="userId")
    if body.userId is not None:
        try:
            return uuid.UUID(body.userId)
        except ValueError:
            raise ValidationError("userId is not a valid id.", field="userId") from None
    return body.email


@dialect.route("/unlock-account", "POST",
               summary="Reset your own failed-login lockout; an admin may name another account",
               request=UnlockBody, body_required=False, response=UserEnvelope, auth=True)
def unlock_account():
    caller = principal()
    body = read_json(UnlockBody, optional=True)
    user = accounts.unlock(_unlock_target(body), actor=caller.user, client=client_info())
    return ok("Account unlocked.", user_out(user))


# --- sessions and security ---------------------------------------------------------------------

@dialect.route("/active-sessions", "GET", summary="List active sessions",
               response=SessionsEnvelope, auth=True)
def active_sessions():
    caller = principal()
    current_id = caller.session.id if caller.session else None
    return ok("Active sessions retrieved.", [session_out(row, current_id)
                                             for row in sessions.active_sessions(caller.user)])


@dialect.route("/revoke-all-sessions", "POST", summary="End every session of the account",
               response=RevokedEnvelope, auth=True)
def revoke_all_sessions():
    count = api_logins.revoke_all_sessions(principal().user, client=client_info())
    return ok("All sessions revoked.", {"revokedSessions": count})


@dialect.route("/security-activity", "GET", summary="Recent security events of the account",
               response=ActivityEnvelope, auth=True)
def security_activity():
    caller = principal()
    return ok("Security activity retrieved.",
              [activity_out(event) for event in audit.events_for_user(caller.user.id,
                                                                       limit=50)])


# --- email verification, password reset and one-time codes -----------------------------------

SENT_IF_NEEDED = "If that address has an account that needs it, a message is on its way."


@dialect.route("/verify-email", "POST", summary="Verify the email with the link's token",
               request=TokenBody, response=UserEnvelope, limit="code")
def verify_email():
    body = read_json(TokenBody)
    user = email_verification.verify_token(body.token, client=client_info())
    return ok("Email verified.", user_out(user))


@dialect.route("/resend-verification", "POST", summary="Send the verification email again",
               request=EmailBody, response=EmptyEnvelope, limit="mail", limit_by=email_in_body)
def resend_verification():
    body = read_json(EmailBody)
    email_verification.resend_to_address(body.email, client=client_info())
    return ok(SENT_IF_NEEDED)


@dialect.route("/forgot-password", "POST", summary="Email a password reset link",
               request=EmailBody, response=EmptyEnvelope, limit="mail", limit_by=email_in_body)
def forgot_password():
    body = read_json(EmailBody)
    password_reset.request(body.email, client=client_info())
    return ok(SENT_IF_NEEDED)


@dialect.route("/reset-password", "POST",
               summary="Set a new password with the link's token; every session ends",
               request=ResetPasswordBody, response=EmptyEnvelope, limit="code")
def reset_password():
    body = read_json(ResetPasswordBody)
    password_reset.reset(body.token, body.password, client=client_info())
    return ok("Password reset. Sign in with the new password.")


@dialect.route("/otp/send", "POST",
               summary="Send a verification code to the account's email or phone "
               "(or, with mfaToken and no bearer token, an MFA login's email code)",
               request=OtpSendBody, response=EmptyEnvelope, auth=True, limit="mail")
def otp_send():
    if bearer_token() is None:
        return apiv1_mfa.send_login_code(read_json(OtpSendBody))
    caller = principal()
    body = read_json(OtpSendBody)
    if body.method == "email":
        email_verification.resend_or_refuse(caller.user, client=client_info())
    else:
        phone_verification.send_code(caller.user, client=client_info())
    return ok("Code sent.")


@dialect.route("/verify-email-otp", "POST", summary="Verify the email with the mailed code",
               request=EmailOtpBody, response=UserEnvelope, limit="code",
               fields={"code": "otp"})
def verify_email_otp():
    body = read_json(EmailOtpBody)
    user = email_verification.verify_code_at_address(body.email, body.otp,
                                                     client=client_info())
    return ok("Email verified.", user_out(user))


@dialect.route("/verify-sms-otp", "POST", summary="Verify the phone with the texted code",
               request=SmsOtpBody, response=UserEnvelope, limit="code",
               fields={"code": "otp"})
def verify_sms_otp():
    body = read_json(SmsOtpBody)
    user = phone_verification.verify(body.phoneNumber, body.otp, client=client_info())
    return ok("Phone number verified.", user_out(user))


# The MFA routes register on `dialect` too (kept apart for size).
from app.api.dialects import apiv1_mfa  # noqa: E402
