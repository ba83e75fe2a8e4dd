"""modernauth's mailed flows: email verification, password reset and sign-in links."""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.shapes import (
    EmailBody,
    MagicLinkVerifyBody,
    MessageOut,
    ResetPasswordBody,
    SessionOut,
    TokenBody,
    UserOut,
    login_out,
    user_out,
)
from app.api.raises import LINK_SIGN_IN, MAIL_REQUEST, ONE_TIME, RESET, SEND_TO_SELF
from app.core import api_logins
from app.core.mail import email_verification, magic_link, password_reset
from app.core.mfa import factors

SENT_IF_EXISTS = "If that address has an account, a message is on its way."


@dialect.route("/auth/send-verification", "POST", summary="Send verification email",
               response=MessageOut, auth=True, limit="send_verification",
               raises=SEND_TO_SELF)
def send_verification(caller: api_logins.Principal):
    email_verification.resend_or_refuse(caller.user, client=client_info())
    return {"message": "Verification email sent."}


@dialect.route("/auth/verify-email", "POST", summary="Verify email with token",
               request=TokenBody, response=UserOut, limit="verify",
               raises=ONE_TIME)
def verify_email(body: TokenBody):
    return user_out(email_verification.verify_token(body.token, client=client_info()))


@dialect.route("/auth/forgot-password", "POST", summary="Request password reset email",
               request=EmailBody, response=MessageOut, limit="forgot_password",
               raises=MAIL_REQUEST)
def forgot_password(body: EmailBody):
    password_reset.request(body.email, client=client_info())
    return {"message": SENT_IF_EXISTS}


@dialect.route("/auth/reset-password", "POST", summary="Reset password with token",
               request=ResetPasswordBody, response=MessageOut, limit="verify",
               fields={"password": "new_password"},
               raises=RESET)
def reset_password(body: ResetPasswordBody):
    password_reset.reset(body.token, body.new_password, client=client_info())
    return {"message": "Password reset. Every session was signed out."}


@dialect.route("/auth/magic-link/send", "POST", summary="Request a magic link email",
               request=EmailBody, response=MessageOut, limit="magic_link",
               raises=MAIL_REQUEST)
def magic_link_send(body: EmailBody):
    # An unknown address is sent a sign-up link; using it needs allow_registration.
    magic_link.send(body.email, client=client_info(), allow_registration=True)
    return {"message": "If that address can sign in, a link is on its way."}


@dialect.route("/auth/magic-link/verify", "POST",
               summary="Verify magic link token and create session",
               request=MagicLinkVerifyBody, response=SessionOut, limit="verify",
               raises=LINK_SIGN_IN)
def magic_link_verify(body: MagicLinkVerifyBody):
    user = magic_link.verify(body.token, client=client_info(),
                             allow_registration=body.allow_registration)
    # A link is a first factor only: a user with MFA gets the mfa_required answer.
    return login_out(api_logins.sign_in(
        user, amr=magic_link.AMR, dialect=dialect.id, client=client_info(),
        mfa_methods=factors.METHODS, device_token=body.device_token))
