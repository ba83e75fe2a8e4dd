"""eventchain's registration (which does not sign in), sign-in, tokens and logout.

Registration never grants `admin`: only the self-service roles `attendee` and `organizer`
may be picked. A user with a second factor is refused at login (403 `mfa_required`).
"""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.eventchain.document import dialect
from app.api.dialects.eventchain.shapes import (
    LoginBody,
    MessageOut,
    RefreshBody,
    RegisterBody,
    RegisterOut,
    TokensOut,
    ok,
    registered_user_out,
    tokens_out,
)
from app.api.raises import PASSWORD_LOGIN, REFRESH, SIGN_UP
from app.core import accounts, api_logins, rbac
from app.core.services import setting

SELF_SERVICE_ROLES = ("attendee", "organizer")
DEFAULT_ROLE = "attendee"


@dialect.route("/register", "POST", summary="Register a user (does not sign in)",
               request=RegisterBody, response=RegisterOut, status=201, limit="register",
               raises=SIGN_UP)
def register(body: RegisterBody):
    roles = rbac.registration_roles(body.role, self_service=SELF_SERVICE_ROLES,
                                    default=DEFAULT_ROLE, actor=None)
    user = accounts.create_user(email=body.email, password=body.password,
                                first_name=body.firstName, last_name=body.lastName,
                                roles=roles, client=client_info())
    return ok({"user": registered_user_out(user),
               "message": "Registration successful. Please verify your email."}, 201)


@dialect.route("/login", "POST", summary="Sign in with email and password", request=LoginBody,
               response=TokensOut, limit="login",
               raises=PASSWORD_LOGIN)
def login(body: LoginBody):
    issued = api_logins.password_login(
        body.email, body.password, dialect=dialect.id, client=client_info(),
        require_verified_email=setting("EVENTCHAIN_REQUIRE_VERIFIED_EMAIL"))
    return ok(tokens_out(issued))


@dialect.route("/refresh", "POST", summary="Rotate the refresh token", request=RefreshBody,
               response=TokensOut,
               raises=REFRESH)
def refresh(body: RefreshBody):
    return ok(tokens_out(api_logins.refresh(body.refreshToken, dialect=dialect.id)))


@dialect.route("/logout", "POST", summary="End this session and its tokens",
               response=MessageOut, auth=True)
def logout(caller: api_logins.Principal):
    api_logins.logout(caller, client=client_info())
    return ok({"message": "Logged out successfully."})
