"""eventchain's mailed flows: email verification and password reset."""

from __future__ import annotations

from app.api.common import client_info, email_in_body
from app.api.dialects.eventchain.document import dialect
from app.api.dialects.eventchain.shapes import (
    EmailBody,
    MessageOut,
    ProfileOut,
    ResetConfirmBody,
    TokenBody,
    ok,
    profile_out,
)
from app.api.raises import MAIL_REQUEST, ONE_TIME, RESET
from app.core.mail import email_verification, password_reset

SENT_IF_NEEDED = "If that address has an account that needs it, a message is on its way."


@dialect.route("/verify/send", "POST", summary="Send the verification email again",
               request=EmailBody, response=MessageOut, limit="verify", limit_by=email_in_body,
               raises=MAIL_REQUEST)
def verify_send(body: EmailBody):
    email_verification.resend_to_address(body.email, client=client_info())
    return ok({"message": SENT_IF_NEEDED})


@dialect.route("/verify/confirm", "POST", summary="Verify the email with the link's token",
               request=TokenBody, response=ProfileOut,
               raises=ONE_TIME)
def verify_confirm(body: TokenBody):
    user = email_verification.verify_token(body.token, client=client_info())
    return ok({"user": profile_out(user)})


@dialect.route("/password/reset/request", "POST", summary="Email a password reset link",
               request=EmailBody, response=MessageOut, limit="password_reset",
               limit_by=email_in_body,
               raises=MAIL_REQUEST)
def password_reset_request(body: EmailBody):
    password_reset.request(body.email, client=client_info())
    return ok({"message": SENT_IF_NEEDED})


@dialect.route("/password/reset/confirm", "POST",
               summary="Set a new password with the link's token; every session ends",
               request=ResetConfirmBody, response=MessageOut, fields={"password": "newPassword"},
               raises=RESET)
def password_reset_confirm(body: ResetConfirmBody):
    password_reset.reset(body.token, body.newPassword, client=client_info())
    return ok({"message": "Password reset. Sign in with the new password."})
