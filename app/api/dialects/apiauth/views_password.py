"""apiauth's password reset: the emailed link, then the new password (which ends every
session and signs nobody in)."""

from __future__ import annotations

from app.api.common import client_info, email_in_body
from app.api.dialects.apiauth.document import dialect
from app.api.dialects.apiauth.shapes import EmailBody, MessageOut, PasswordPair
from app.api.raises import MAIL_REQUEST, RESET
from app.core.mail import password_reset


@dialect.route("/forgot-password", "POST", summary="Email a password reset link",
               request=EmailBody, response=MessageOut, limit="forgot_password",
               limit_by=email_in_body,
               raises=MAIL_REQUEST)
def forgot_password(body: EmailBody):
    password_reset.request(body.email, client=client_info())
    return {"status": "success",
            "message": "If that address has an account, a reset link is on its way."}


@dialect.route("/reset-password/<token>", "PATCH",
               summary="Set a new password with the emailed token; every session ends",
               request=PasswordPair, response=MessageOut, limit="reset_password",
               raises=RESET)
def reset_password(token: str, body: PasswordPair):
    password_reset.reset(token, body.password, client=client_info())
    return {"status": "success", "message": "Password reset. Log in with the new password."}
