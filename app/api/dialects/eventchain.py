"""eventchain (api-docs 003): `{"success": true, "data"}`; failures carry AUTH_00x codes.

Mounted at /eventchain/v1/auth by default: the document's own base, /v1/auth, is also
modernauth's. Registration does not sign in (the document returns no token), and never
grants `admin`: only the self-service roles `attendee` and `organizer` may be picked.
A user with a second factor is refused at login (403 `mfa_required`): the document has no
step to pass it.
"""

from __future__ import annotations

from pydantic import create_model

from app.api.common import Body, Reply, client_info, email_in_body, principal, read_json
from app.api.dialect import Dialect
from app.core import accounts, api_logins, rbac
from app.core.errors import OneTimeTokenExpired, OneTimeTokenInvalid
from app.core.mail import email_verification, password_reset
from app.core.services import setting

# The document's own codes (its "Common Error Codes" list). Codes absent here keep
# Tessera's own (`validation`, `forbidden`, `wrong_password`, `rate_limited`, ...).
AUTH_CODES = {
    "invalid_credentials": (401, "AUTH_001"),
    "account_not_verified": (403, "AUTH_002"),
    "token_expired": (401, "AUTH_003"),
    "invalid_token": (401, "AUTH_004"),
    "unauthenticated": (401, "AUTH_004"),
    # A refresh token that is unknown, spent, revoked or expired is an invalid token here.
    "invalid_grant": (401, "AUTH_004"),
    "account_locked": (403, "AUTH_005"),
    "account_inactive": (403, "AUTH_005"),
    "weak_password": (400, "AUTH_006"),
    "email_taken": (409, "AUTH_007"),
    # A verification or reset link: the document's token codes, with a 400 (the request
    # is refused, not the caller's authentication).
    OneTimeTokenExpired: (400, "AUTH_003"),
    OneTimeTokenInvalid: (400, "AUTH_004"),
    # The document has no second-factor step and no code for one: a user with MFA is
    # refused with Tessera's own code rather than let in on a password alone.
    "mfa_required": (403, "mfa_required"),
}

# Core names fields in its own spelling; the envelope uses the document's.
FIELD_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "current_password": "currentPassword",
    "new_password": "newPassword",
    "refresh_token": "refreshToken",
}

SELF_SERVICE_ROLES = ("attendee", "organizer")
DEFAULT_ROLE = "attendee"
# The document gives a user one role; of several held, the most privileged is shown.
ROLE_PRECEDENCE = ("admin", "organizer", "attendee")


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    details = {"field": FIELD_NAMES.get(field, field)} if field else {}
    return {"success": False, "error": {"code": code, "message": message,
                                        "details": details}}


dialect = Dialect(
    id="eventchain", title="EventChain Authentication API", default_mount="/eventchain/v1/auth",
    error_body=error_body, errors=AUTH_CODES,
    rate_limits={"login": "5 per minute", "register": "3 per hour",
                 "password_reset": "3 per hour", "verify": "5 per hour"},
)


# --- schemas -------------------------------------------------------------------------------

class RegisterBody(Body):
    email: str
    password: str
    firstName: str
    lastName: str
    role: str | None = None


class LoginBody(Body):
    email: str
    password: str


class RefreshBody(Body):
    refreshToken: str


class ProfileBody(Body):
    firstName: str | None = None
    lastName: str | None = None
    phone: str | None = None


class PasswordBody(Body):
    currentPassword: str
    newPassword: str


class EmailBody(Body):
    email: str


class TokenBody(Body):
    token: str


class ResetConfirmBody(Body):
    token: str
    newPassword: str


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


# --- views -----------------------------------------------------------------------------------

@dialect.route("/register", "POST", summary="Register a user (does not sign in)",
               request=RegisterBody, response=RegisterOut, status=201, limit="register")
def register():
    body = read_json(RegisterBody)
    roles = rbac.registration_roles(body.role, self_service=SELF_SERVICE_ROLES,
                                    default=DEFAULT_ROLE, actor=None)
    user = accounts.create_user(email=body.email, password=body.password,
                                first_name=body.firstName, last_name=body.lastName,
                                roles=roles, client=client_info())
    return ok({"user": registered_user_out(user),
               "message": "Registration successful. Please verify your email."}, 201)


@dialect.route("/login", "POST", summary="Sign in with email and password", request=LoginBody,
               response=TokensOut, limit="login")
def login():
    body = read_json(LoginBody)
    issued = api_logins.password_login(
        body.email, body.password, dialect=dialect.id, client=client_info(),
        require_verified_email=setting("EVENTCHAIN_REQUIRE_VERIFIED_EMAIL"))
    return ok(tokens_out(issued))


@dialect.route("/refresh", "POST", summary="Rotate the refresh token", request=RefreshBody,
               response=TokensOut)
def refresh():
    body = read_json(RefreshBody)
    return ok(tokens_out(api_logins.refresh(body.refreshToken, dialect=dialect.id)))


@dialect.route("/logout", "POST", summary="End this session and its tokens",
               response=MessageOut, auth=True)
def logout():
    api_logins.logout(principal(), client=client_info())
    return ok({"message": "Logged out successfully."})


@dialect.route("/profile", "GET", summary="The caller's profile", response=ProfileOut,
               auth=True)
def profile():
    return ok({"user": profile_out(principal().user)})


@dialect.route("/profile", "PUT", summary="Update the caller's profile", request=ProfileBody,
               response=ProfileOut, auth=True)
def update_profile():
    caller = principal()
    body = read_json(ProfileBody)
    names = {"firstName": "first_name", "lastName": "last_name", "phone": "phone"}
    changes = {names[key]: value for key, value in body.model_dump(exclude_unset=True).items()}
    user = accounts.update_profile(caller.user, client=client_info(), **changes)
    return ok({"user": profile_out(user)})


@dialect.route("/password", "PUT", summary="Change password; other sessions end",
               request=PasswordBody, response=MessageOut, auth=True)
def change_password():
    caller = principal()
    body = read_json(PasswordBody)
    accounts.change_password(caller.user, current_password=body.currentPassword,
                             new_password=body.newPassword, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return ok({"message": "Password changed. Other sessions were signed out."})


@dialect.route("/permissions", "GET", summary="The caller's roles and permissions",
               response=PermissionsOut, auth=True)
def permissions():
    user = principal().user
    return ok({"roles": rbac.role_names(user),
               "permissions": sorted(rbac.permission_names(user))})


# --- email verification and password reset --------------------------------------------------

SENT_IF_NEEDED = "If that address has an account that needs it, a message is on its way."


@dialect.route("/verify/send", "POST", summary="Send the verification email again",
               request=EmailBody, response=MessageOut, limit="verify", limit_by=email_in_body)
def verify_send():
    body = read_json(EmailBody)
    email_verification.resend_to_address(body.email, client=client_info())
    return ok({"message": SENT_IF_NEEDED})


@dialect.route("/verify/confirm", "POST", summary="Verify the email with the link's token",
               request=TokenBody, response=ProfileOut)
def verify_confirm():
    body = read_json(TokenBody)
    user = email_verification.verify_token(body.token, client=client_info())
    return ok({"user": profile_out(user)})


@dialect.route("/password/reset/request", "POST", summary="Email a password reset link",
               request=EmailBody, response=MessageOut, limit="password_reset",
               limit_by=email_in_body)
def password_reset_request():
    body = read_json(EmailBody)
    password_reset.request(body.email, client=client_info())
    return ok({"message": SENT_IF_NEEDED})


@dialect.route("/password/reset/confirm", "POST",
               summary="Set a new password with the link's token; every session ends",
               request=ResetConfirmBody, response=MessageOut, fields={"password": "newPassword"})
def password_reset_confirm():
    body = read_json(ResetConfirmBody)
    password_reset.reset(body.token, body.newPassword, client=client_info())
    return ok({"message": "Password reset. Sign in with the new password."})
