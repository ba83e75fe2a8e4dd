"""apiauth (api-docs 001): `{"status": "success", ...}`; failures `{"status": "fail"|"error"}`.

Where the document is silent or unsafe:
- `role: "admin"` at registration is granted only when the request carries an
  administrator's bearer token; anyone else gets 403 in the envelope (self-service:
  `sub-admin`, the default). The `jwt` cookie never counts for this.
- The token is also set as the `jwt` cookie (HttpOnly, SameSite=Lax, Secure when the issuer
  is https, Path = this dialect's mount, Max-Age = the token lifetime, 30 days by default as
  the document's JWT_EXPIRE). `/me` and `/logout` accept the Authorization header or the
  cookie; the header wins when both are sent.
- Logout ends the server-side session, so the token stops working at once everywhere, not
  only in this browser; it needs a valid token (401 otherwise).
- `role` in user objects is the user's most privileged global role (admin, then sub-admin,
  then any other by name), or null for an account that holds none.
- Login returns the same user object as registration (a superset of the documented one).
- reset-password sets the password and ends every session, but does not sign in (no token):
  a user with a second factor must still pass it at the next login.
- The document has no MFA step, so a user with a second factor is refused at login (after
  the right password) with 403 `mfa_required` in the envelope, and no token.
"""

from __future__ import annotations

from typing import Literal

from flask import current_app, jsonify, request
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.api.common import Body, Reply, bearer_token, client_info, email_in_body, read_json
from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect
from app.core import accounts, api_logins, rbac
from app.core.errors import TesseraError
from app.core.mail import password_reset

COOKIE = "jwt"
SELF_SERVICE_ROLES = ("sub-admin",)
DEFAULT_ROLE = "sub-admin"


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"status": "error" if status >= 500 else "fail", "message": message, "code": code}
    if field:
        body["field"] = field
    return body


dialect = Dialect(
    id="apiauth", title="User Authentication API", default_mount="/api/auth",
    error_body=error_body,
    # The document has no second-factor step: a user with MFA is refused, not let in.
    errors={"mfa_required": (403, "mfa_required")},
    rate_limits={**{key: DEFAULT_AUTH_LIMITS[key] for key in ("register", "login")},
                 "forgot_password": "5 per hour", "reset_password": "10 per 15 minutes"},
)


# --- schemas -------------------------------------------------------------------------------

class PasswordPair(Body):
    password: str
    passwordConfirm: str  # noqa: N815 - the document's spelling

    @field_validator("passwordConfirm")
    @classmethod
    def _matches(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise PydanticCustomError("password_mismatch", "Passwords do not match.")
        return value


class RegisterBody(PasswordPair):
    username: str = Field(min_length=3, max_length=30)
    email: str
    role: Literal["admin", "sub-admin"] | None = None


class EmailBody(Body):
    email: str


class LoginBody(Body):
    email: str
    password: str


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


def caller() -> api_logins.Principal:
    """The caller, from `Authorization: Bearer` or else the `jwt` cookie."""
    return api_logins.authenticate(bearer_token() or request.cookies.get(COOKIE) or None)


def admin_actor():
    """The user behind a valid bearer header (never the cookie), or None."""
    token = bearer_token()
    if token is None:
        return None
    try:
        return api_logins.authenticate(token).user
    except TesseraError:
        return None


# --- views -----------------------------------------------------------------------------------

@dialect.route("/register", "POST", summary="Register a new user", request=RegisterBody,
               response=AuthOut, status=201, limit="register")
def register():
    body = read_json(RegisterBody)
    roles = rbac.registration_roles(body.role, self_service=SELF_SERVICE_ROLES,
                                    default=DEFAULT_ROLE, actor=admin_actor())
    user = accounts.create_user(email=body.email, password=body.password,
                                username=body.username, roles=roles, client=client_info())
    return with_token(api_logins.start_for_new_user(user, dialect=dialect.id,
                                                    client=client_info()), 201)


@dialect.route("/login", "POST", summary="Log in and receive a JWT", request=LoginBody,
               response=AuthOut, limit="login")
def login():
    body = read_json(LoginBody)
    return with_token(api_logins.password_login(body.email, body.password,
                                                dialect=dialect.id, client=client_info()))


@dialect.route("/me", "GET", summary="Get the current user", response=MeOut, auth=True)
def me():
    return {"status": "success", "data": {"user": user_out(caller().user)}}


@dialect.route("/logout", "POST", summary="Log out (ends the session, clears the cookie)",
               response=StatusOut, auth=True)
def logout():
    api_logins.logout(caller(), client=client_info())
    response = jsonify({"status": "success"})
    response.delete_cookie(COOKIE, path=cookie_path(),
                           secure=current_app.config["SECURE_COOKIES"], httponly=True,
                           samesite="Lax")
    return response


@dialect.route("/forgot-password", "POST", summary="Email a password reset link",
               request=EmailBody, response=MessageOut, limit="forgot_password",
               limit_by=email_in_body)
def forgot_password():
    body = read_json(EmailBody)
    password_reset.request(body.email, client=client_info())
    return {"status": "success",
            "message": "If that address has an account, a reset link is on its way."}


@dialect.route("/reset-password/<token>", "PATCH",
               summary="Set a new password with the emailed token; every session ends",
               request=PasswordPair, response=MessageOut, limit="reset_password")
def reset_password(token: str):
    body = read_json(PasswordPair)
    password_reset.reset(token, body.password, client=client_info())
    return {"status": "success", "message": "Password reset. Log in with the new password."}
