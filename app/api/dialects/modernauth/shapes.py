"""modernauth's shapes: the request bodies it validates, the replies it documents, and the
functions that build those replies from core's objects."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from webauthn.helpers import bytes_to_base64url

from app.api.common import Body, Reply
from app.api.fields import Email, Name, NewPassword, Password, Phone, Required, Username
from app.core import api_logins
from app.core.mfa import trusted_devices
from app.core.mfa.login import PendingLogin

# --- accounts and sign-in ----------------------------------------------------------------------


class RegisterBody(Body):
    email: Email
    password: NewPassword
    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None


class LoginBody(Body):
    email: Email
    password: Password
    # A trusted device's token (from login/mfa with remember_device, or trust-device).
    device_token: str | None = None


class RefreshBody(Body):
    refresh_token: Required


class ChangePasswordBody(Body):
    current_password: Password
    new_password: NewPassword


class EmailBody(Body):
    email: Email


class TokenBody(Body):
    token: Required


class ResetPasswordBody(Body):
    token: Required
    new_password: NewPassword


class MagicLinkVerifyBody(Body):
    token: Required
    allow_registration: bool = False
    device_token: str | None = None


class UserOut(Reply):
    id: str
    email: str
    username: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    is_email_verified: bool
    is_active: bool
    created_at: str
    updated_at: str | None = None


class TokensOut(Reply):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class SessionOut(Reply):
    user: UserOut
    tokens: TokensOut


class MessageOut(Reply):
    message: str


# --- second factors, passkeys and devices ------------------------------------------------------

class PendingBody(Body):
    user_id: str | None = None
    mfa_token: str | None = None


class MfaCodeBody(PendingBody):
    code: Required
    remember_device: bool = False


class CredentialBody(Body):
    """The browser's credential.toJSON() as the body, or under `credential`."""

    model_config = ConfigDict(extra="allow", strict=True, str_max_length=4096)
    # Checked by core (passkeys.credential_from_body), which names the field `credential`.
    credential: Any = None

    def sent_credential(self) -> Any:
        """The credential: under `credential`, or else the body's own members."""
        return self.credential if self.credential is not None else self.model_extra


class PasskeyLoginBody(CredentialBody):
    user_id: str | None = None
    mfa_token: str | None = None
    remember_device: bool = False


class PasskeyRegisterBody(CredentialBody):
    name: str | None = None


class ReauthBody(Body):
    """Optional proof of a recent authentication, and whether to end the other sessions."""

    password: Password | None = None
    code: Required | None = None
    method: str | None = None
    revoke_other_sessions: bool = False


class EnableBody(Body):
    code: Required  # the authenticator app's code confirming set-up
    password: Password | None = None
    revoke_other_sessions: bool = False


class DisableBody(Body):
    code: Required | None = None
    password: Password | None = None
    revoke_other_sessions: bool = False


class PreferredBody(Body):
    method: str


class DeleteCredentialBody(ReauthBody):
    credential_id: str | None = None
    id: str | None = None


class RevokeTrustBody(Body):
    device_id: str | None = None


class StatusOut(Reply):
    enabled: bool
    methods: list[str]
    preferred_method: str | None
    totp_enabled: bool
    email_enabled: bool
    webauthn_credentials: int
    backup_codes_remaining: int
    trusted_devices: int


class SetupOut(Reply):
    secret: str
    url: str
    qr_code: str


class BackupCodesOut(Reply):
    backup_codes: list[str]


class CountOut(Reply):
    count: int


class PublicKeyOut(Reply):
    publicKey: dict  # noqa: N815 - the WebAuthn JSON name


class DeviceOut(Reply):
    id: str
    name: str | None
    ip: str | None
    created_at: str
    last_seen_at: str
    current: bool
    signed_in: bool  # False: a trusted device without an active session
    trusted: bool
    trusted_until: str | None


# --- shaping ---------------------------------------------------------------------------------

def user_out(user) -> dict:
    return {
        "id": str(user.id), "email": user.email, "username": user.username,
        "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
        "is_email_verified": user.email_verified, "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat() if user.updated_at else None,
    }


def session_out(issued: api_logins.IssuedTokens) -> dict:
    return {"user": user_out(issued.user),
            "tokens": {"access_token": issued.access_token,
                       "refresh_token": issued.refresh_token, "token_type": "Bearer",
                       "expires_in": issued.expires_in}}


def mfa_required_out(pending: PendingLogin) -> dict:
    return {"mfa_required": True, "user_id": str(pending.user.id),
            "mfa_token": pending.mfa_token, "methods": pending.methods,
            "preferred_method": pending.preferred, "expires_in": pending.expires_in}


def login_out(result) -> dict:
    """The documented answer to a first factor: a session, or the MFA step."""
    if isinstance(result, PendingLogin):
        return mfa_required_out(result)
    return session_out(result)


def completed_out(issued: api_logins.IssuedTokens, device_token: str | None) -> dict:
    """The answer to a second factor: a session, and the device token when one was asked."""
    body = session_out(issued)
    if device_token:
        body |= {"device_token": device_token,
                 "device_token_expires_in": trusted_devices.max_age()}
    return body


def passkey_out(row) -> dict:
    return {"id": str(row.id), "credential_id": bytes_to_base64url(row.credential_id),
            "name": row.name, "device_type": row.device_type, "backed_up": row.backed_up,
            "transports": list(row.transports or []), "aaguid": row.aaguid,
            "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}
