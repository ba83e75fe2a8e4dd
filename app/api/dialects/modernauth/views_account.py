"""modernauth's account endpoints: registration, password sign-in, tokens, the profile."""

from __future__ import annotations

from flask import current_app

from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.shapes import (
    ChangePasswordBody,
    LoginBody,
    MessageOut,
    RefreshBody,
    RegisterBody,
    SessionOut,
    UserOut,
    login_out,
    session_out,
    user_out,
)
from app.api.raises import PASSWORD_CHECK, PASSWORD_LOGIN, REFRESH, SIGN_UP
from app.core import accounts, api_logins
from app.core.mfa import factors


@dialect.route("/auth/register", "POST", summary="Register a new user", request=RegisterBody,
               response=SessionOut, status=201, limit="register",
               raises=SIGN_UP)
def register(body: RegisterBody):
    user = accounts.create_user(email=body.email, password=body.password,
                                username=body.username, first_name=body.first_name,
                                last_name=body.last_name, phone=body.phone,
                                client=client_info())
    issued = api_logins.start_for_new_user(user, dialect=dialect.id, client=client_info())
    return session_out(issued), 201


@dialect.route("/auth/login", "POST", summary="Login with email/password", request=LoginBody,
               response=SessionOut, limit="login",
               raises=PASSWORD_LOGIN)
def login(body: LoginBody):
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), mfa_methods=factors.METHODS,
                                       device_token=body.device_token)
    return login_out(result)


@dialect.route("/auth/refresh", "POST", summary="Rotate refresh token", request=RefreshBody,
               response=SessionOut, limit="refresh",
               raises=REFRESH)
def refresh(body: RefreshBody):
    return session_out(api_logins.refresh(body.refresh_token, dialect=dialect.id))


@dialect.route("/auth/logout", "POST", summary="Revoke session & tokens", response=MessageOut,
               auth=True)
def logout(caller: api_logins.Principal):
    api_logins.logout(caller, client=client_info())
    return {"message": "Logged out."}


@dialect.route("/auth/me", "GET", summary="Get current user profile", response=UserOut,
               auth=True)
def me(caller: api_logins.Principal):
    return user_out(caller.user)


@dialect.route("/auth/settings", "GET", summary="Public authentication settings")
def settings():
    return {
        "registration_enabled": True,
        "password_min_length": current_app.config["PASSWORD_MIN_LENGTH"],
        "password_max_length": current_app.config["PASSWORD_MAX_LENGTH"],
        # What this server offers; each user turns factors on through /auth/mfa/*.
        "mfa": {"totp": True, "email": True, "webauthn": True, "backup_codes": True,
                "trusted_device_days": current_app.config["TRUSTED_DEVICE_DAYS"]},
        "magic_link_enabled": True,
        "email_verification_required": False,
        "access_token_ttl": api_logins.token_lifetime(dialect.id),
    }


@dialect.route("/auth/change-password", "POST", summary="Change password",
               request=ChangePasswordBody, response=MessageOut, auth=True,
               raises=PASSWORD_CHECK)
def change_password(caller: api_logins.Principal, body: ChangePasswordBody):
    accounts.change_password(caller.user, current_password=body.current_password,
                             new_password=body.new_password, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return {"message": "Password changed. Other sessions were signed out."}
