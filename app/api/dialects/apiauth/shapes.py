"""apiauth's shapes: the request bodies it validates, the replies it documents, and the
functions that build them, the token's reply with its `jwt` cookie included."""

from __future__ import annotations

from typing import Literal

from flask import current_app, jsonify
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.api.common import Body, Reply
from app.api.dialects.apiauth.document import COOKIE, dialect
from app.api.fields import Email, NewPassword, Password
from app.core import accounts, api_logins, rbac


class PasswordPair(Body):
    password: NewPassword
    passwordConfirm: Password  # noqa: N815 - the document's spelling

    @field_validator("passwordConfirm")
    @classmethod
    def _matches(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise PydanticCustomError("password_mismatch", "Passwords do not match.")
        return value


class RegisterBody(PasswordPair):
    # Pydantic bounds the length; core's pattern (which lower-cases first) is documented.
    username: str = Field(min_length=3, max_length=30,
                          json_schema_extra={"pattern": accounts.USERNAME_PATTERN.pattern})
    email: Email
    role: Literal["admin", "sub-admin"] | None = None


class EmailBody(Body):
    email: Email


class LoginBody(Body):
    email: Email
    password: Password


class UserOut(Reply):
    id: str = Field(alias="_id")
    username: str | None = None
    email: str
    role: str | None = None
    isActive: bool  # noqa: N815
    createdAt: str  # noqa: N815


class UserData(Reply):
    user: UserOut


class AuthOut(Reply):
    status: str = "success"
    token: str
    data: UserData


class MeOut(Reply):
    status: str = "success"
    data: UserData


class StatusOut(Reply):
    status: str = "success"


class MessageOut(StatusOut):
    message: str


# --- shaping and the cookie -------------------------------------------------------------------

def primary_role(user) -> str | None:
    names = rbac.role_names(user)
    for preferred in ("admin", "sub-admin"):
        if preferred in names:
            return preferred
    return names[0] if names else None


def user_out(user) -> dict:
    return {"_id": str(user.id), "username": user.username, "email": user.email,
            "role": primary_role(user), "isActive": user.is_active,
            "createdAt": user.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")}


def cookie_path() -> str:
    return current_app.extensions["tessera.api_mounts"].get(dialect.id) or "/"


def with_token(issued: api_logins.IssuedTokens, status: int = 200):
    response = jsonify({"status": "success", "token": issued.access_token,
                        "data": {"user": user_out(issued.user)}})
    response.status_code = status
    response.set_cookie(COOKIE, issued.access_token, max_age=issued.expires_in,
                        path=cookie_path(), secure=current_app.config["SECURE_COOKIES"],
                        httponly=True, samesite="Lax")
    return response
