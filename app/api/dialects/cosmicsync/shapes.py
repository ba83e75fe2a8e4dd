"""cosmicsync's shapes: the request bodies and query strings it validates, the replies it
documents, and the functions that build those replies from core's objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from app.api.common import Body, Reply
from app.api.fields import DataKey, Email, Name, NewPassword, Password, Phone, Required, Username
from app.core import api_logins

# --- accounts, profile, data and roles ---------------------------------------------------------


class RegisterBody(Body):
    email: Email
    password: NewPassword
    username: Username | None = None
    application_id: str


class LoginBody(Body):
    email: Email
    password: Password
    application_id: str
    device_token: str | None = None  # a trusted device's (see views_mfa)


class ProfileBody(Body):
    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None


class DataBody(Body):
    key: DataKey
    value: Any
    application_id: str | None = None


class RoleBody(Body):
    role: str
    application_id: str | None = None


class Query(Body):
    """Query parameters: strings, and parameters the endpoint does not use are ignored."""

    model_config = ConfigDict(extra="ignore")


class ApplicationQuery(Query):
    application_id: str | None = Field(default=None, max_length=64)


class PermissionQuery(Query):
    action: str = Field(max_length=64)
    resource: str = Field(max_length=64)
    application_id: str | None = Field(default=None, max_length=64)


class RegisteredOut(Reply):
    message: str
    user_id: str


class TokenOut(Reply):
    token: str
    expires_in: int


class ProfileOut(Reply):
    id: str
    email: str
    username: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    email_verified: bool
    created_at: str


class MessageOut(Reply):
    message: str


class PermittedOut(Reply):
    permitted: bool


# --- second factors ----------------------------------------------------------------------------

class EnableBody(Body):
    password: Password | None = None
    code: Required | None = None  # a current code of another factor, to re-authenticate


class VerifyBody(Body):
    code: Required
    mfa_token: str | None = None
    method: Literal["totp", "email", "recovery_code"] = "totp"
    remember_device: bool = False


class EnableOut(Reply):
    secret: str
    qr_code: str


class VerifyOut(Reply):
    message: str


# --- shaping ---------------------------------------------------------------------------------

def profile_out(user) -> dict:
    return {"id": str(user.id), "email": user.email, "username": user.username,
            "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
            "email_verified": user.email_verified, "created_at": user.created_at.isoformat()}


def token_out(issued: api_logins.IssuedTokens) -> dict:
    return {"token": issued.access_token, "expires_in": issued.expires_in}
