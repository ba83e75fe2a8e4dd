"""apiv1's registration, sign-in and tokens (a user with MFA: see views_mfa)."""

from __future__ import annotations

from app.api import mfa as api_mfa
from app.api.common import bearer_token, client_info
from app.api.dialects.apiv1.document import dialect
from app.api.dialects.apiv1.shapes import (
    EmptyEnvelope,
    LoginBody,
    LogoutBody,
    RefreshBody,
    RegisterBody,
    SignInEnvelope,
    login_answer,
    ok,
    sign_in_out,
)
from app.api.raises import BEARER, PASSWORD_LOGIN, REFRESH, SIGN_UP
from app.core import accounts, api_logins


@dialect.route("/register", "POST", summary="Register a user and sign them in",
               request=RegisterBody, response=SignInEnvelope, status=201, limit="register",
               raises=SIGN_UP)
def register(body: RegisterBody):
    user = accounts.create_user(email=body.email, password=body.password,
                                first_name=body.firstName, last_name=body.lastName,
                                phone=body.phoneNumber, client=client_info())
    issued = api_logins.start_for_new_user(user, dialect=dialect.id, client=client_info())
    return ok("Registration successful.", sign_in_out(issued), 201)


@dialect.route("/login", "POST", summary="Log in with email and password", request=LoginBody,
               response=SignInEnvelope, limit="login",
               raises=PASSWORD_LOGIN)
def login(body: LoginBody):
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), mfa_methods=api_mfa.CODE_METHODS,
                                       device_token=body.deviceToken)
    return login_answer(result)


@dialect.route("/logout", "POST", summary="Log out: end the refresh token's session",
               request=LogoutBody, body_required=False, response=EmptyEnvelope,
               raises=(*REFRESH, *BEARER))
def logout(body: LogoutBody):
    api_logins.logout_with_either(bearer_token(), body.refreshToken, dialect=dialect.id,
                                  client=client_info())
    return ok("Logout successful.")


@dialect.route("/refresh", "POST", summary="Rotate the refresh token", request=RefreshBody,
               response=SignInEnvelope, limit="refresh",
               raises=REFRESH)
def refresh(body: RefreshBody):
    return ok("Token refreshed.", sign_in_out(api_logins.refresh(body.refreshToken,
                                                                  dialect=dialect.id)))
