"""apiauth's registration, sign-in, the current user and logout."""

from __future__ import annotations

from flask import current_app, jsonify

from app.api.common import bearer_token, client_info
from app.api.dialects.apiauth.document import COOKIE, dialect
from app.api.dialects.apiauth.shapes import (
    AuthOut,
    LoginBody,
    MeOut,
    RegisterBody,
    StatusOut,
    cookie_path,
    user_out,
    with_token,
)
from app.api.raises import PASSWORD_LOGIN, SIGN_UP
from app.core import accounts, api_logins, rbac
from app.core.errors import Forbidden, TesseraError

SELF_SERVICE_ROLES = ("sub-admin",)
DEFAULT_ROLE = "sub-admin"


def admin_actor():
    """The user behind a valid bearer header (never the cookie), or None."""
    token = bearer_token()
    if token is None:
        return None
    try:
        return api_logins.authenticate(token).user
    except TesseraError:
        return None


@dialect.route("/register", "POST", summary="Register a new user", request=RegisterBody,
               response=AuthOut, status=201, limit="register",
               raises=SIGN_UP)
def register(body: RegisterBody):
    roles = rbac.registration_roles(body.role, self_service=SELF_SERVICE_ROLES,
                                    default=DEFAULT_ROLE, actor=admin_actor())
    user = accounts.create_user(email=body.email, password=body.password,
                                username=body.username, roles=roles, client=client_info())
    return with_token(api_logins.start_for_new_user(user, dialect=dialect.id,
                                                    client=client_info()), 201)


@dialect.route("/login", "POST", summary="Log in and receive a JWT", request=LoginBody,
               response=AuthOut, limit="login",
               raises=PASSWORD_LOGIN)
def login(body: LoginBody):
    return with_token(api_logins.password_login(body.email, body.password,
                                                dialect=dialect.id, client=client_info()))


@dialect.route("/me", "GET", summary="Get the current user", response=MeOut, auth=True)
def me(caller: api_logins.Principal):
    return {"status": "success", "data": {"user": user_out(caller.user)}}


# Forbidden: the jwt cookie sent from another site's page (the Origin check).
@dialect.route("/logout", "POST", summary="Log out (ends the session, clears the cookie)",
               response=StatusOut, auth=True, raises=(Forbidden,))
def logout(caller: api_logins.Principal):
    api_logins.logout(caller, client=client_info())
    response = jsonify({"status": "success"})
    response.delete_cookie(COOKIE, path=cookie_path(),
                           secure=current_app.config["SECURE_COOKIES"], httponly=True,
                           samesite="Lax")
    return response
