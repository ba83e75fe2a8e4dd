"""cosmicsync's /auth endpoints: registration, sign-in and refreshing the token (the
package docstring says where they depart from the document; a user with MFA: views_mfa)."""

from __future__ import annotations

from app.api import mfa as api_mfa
from app.api.common import client_info
from app.api.dialects.cosmicsync.document import dialect
from app.api.dialects.cosmicsync.shapes import (
    LoginBody,
    RegisterBody,
    RegisteredOut,
    TokenOut,
    token_out,
)
from app.api.raises import PASSWORD_LOGIN, REFRESH, SIGN_UP
from app.core import api_logins, app_data, clients
from app.core.errors import RateLimited
from app.core.mfa import factors
from app.core.mfa.login import PendingLogin


def login_answer(result) -> dict:
    """The token, or the MFA step (with the email code already sent when that is the
    user's preferred method)."""
    if not isinstance(result, PendingLogin):
        return token_out(result)
    answer = {"mfa_required": True, "mfa_token": result.mfa_token,
              "methods": result.methods, "expires_in": result.expires_in}
    if result.preferred == factors.EMAIL:
        # The document has no endpoint to ask for the code: send it with the answer. Too
        # many sends keep the pending login (another method, or the last code, may serve).
        try:
            api_logins.send_mfa_email_code(mfa_token=result.mfa_token, dialect=dialect.id,
                                           client=client_info())
            answer["email_code_sent"] = True
        except RateLimited:
            answer["email_code_sent"] = False
    return answer


@dialect.route("/auth/register", "POST", summary="Register a user for an application",
               request=RegisterBody, response=RegisteredOut, status=201, limit="register",
               raises=SIGN_UP)
def register(body: RegisterBody):
    user = app_data.register_user(application_id=body.application_id, email=body.email,
                                  password=body.password, username=body.username,
                                  client=client_info())
    return {"message": "User registered successfully", "user_id": str(user.id)}, 201


@dialect.route("/auth/login", "POST", summary="Authenticate and receive a JWT",
               request=LoginBody, response=TokenOut, limit="login",
               raises=PASSWORD_LOGIN)
def login(body: LoginBody):
    application = clients.application(body.application_id)
    # The document hands out no refresh token (it refreshes with the access token). The
    # session remembers the application: the data calls default to it.
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), with_refresh_token=False,
                                       mfa_methods=api_mfa.CODE_METHODS,
                                       device_token=body.device_token,
                                       application_id=application.client_id)
    return login_answer(result)


@dialect.route("/auth/refresh", "POST", summary="Refresh an expired JWT (Bearer)",
               response=TokenOut, auth="token", limit="refresh",
               raises=REFRESH)
def refresh(access_token: str):
    return token_out(api_logins.refresh_with_access_token(access_token, dialect=dialect.id))
