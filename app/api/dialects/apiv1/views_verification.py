"""apiv1's email verification, password reset and one-time codes.

`otp/send` with a bearer token sends a verification code to the account's email or phone;
without one, `{"method": "email", "mfaToken"}` mails the sign-in code of that pending MFA
login (see views_mfa).
"""

from __future__ import annotations

from app.api.common import client_info, email_in_body
from app.api.dialects.apiv1.document import dialect
from app.api.dialects.apiv1.shapes import (
    EmailBody,
    EmailOtpBody,
    EmptyEnvelope,
    OtpSendBody,
    ResetPasswordBody,
    SmsOtpBody,
    TokenBody,
    UserEnvelope,
    ok,
    user_out,
)
from app.api.raises import BEARER, MAIL_REQUEST, MFA_LOGIN, ONE_TIME, RESET, SEND_TO_SELF
from app.core import api_logins
from app.core.errors import InvalidInput, Unauthenticated
from app.core.mail import email_verification, password_reset, phone_verification

SENT_IF_NEEDED = "If that address has an account that needs it, a message is on its way."


@dialect.route("/verify-email", "POST", summary="Verify the email with the link's token",
               request=TokenBody, response=UserEnvelope, limit="code",
               raises=ONE_TIME)
def verify_email(body: TokenBody):
    user = email_verification.verify_token(body.token, client=client_info())
    return ok("Email verified.", user_out(user))


@dialect.route("/resend-verification", "POST", summary="Send the verification email again",
               request=EmailBody, response=EmptyEnvelope, limit="mail", limit_by=email_in_body,
               raises=MAIL_REQUEST)
def resend_verification(body: EmailBody):
    email_verification.resend_to_address(body.email, client=client_info())
    return ok(SENT_IF_NEEDED)


@dialect.route("/forgot-password", "POST", summary="Email a password reset link",
               request=EmailBody, response=EmptyEnvelope, limit="mail", limit_by=email_in_body,
               raises=MAIL_REQUEST)
def forgot_password(body: EmailBody):
    password_reset.request(body.email, client=client_info())
    return ok(SENT_IF_NEEDED)


@dialect.route("/reset-password", "POST",
               summary="Set a new password with the link's token; every session ends",
               request=ResetPasswordBody, response=EmptyEnvelope, limit="code",
               raises=RESET)
def reset_password(body: ResetPasswordBody):
    password_reset.reset(body.token, body.password, client=client_info())
    return ok("Password reset. Sign in with the new password.")


def send_login_code(body: OtpSendBody):
    """otp/send without a bearer token: the email code of the pending login `mfaToken`."""
    if body.mfaToken is None:
        raise Unauthenticated("A bearer token (or the mfaToken of an MFA login) is required.")
    if body.method != "email":
        raise InvalidInput("Sign-in codes go by email.", field="method")
    api_logins.send_mfa_email_code(mfa_token=body.mfaToken, dialect=dialect.id,
                                   client=client_info())
    return ok("Code sent.")


@dialect.route("/otp/send", "POST",
               summary="Send a verification code to the account's email or phone "
               "(or, with mfaToken and no bearer token, an MFA login's email code)",
               request=OtpSendBody, response=EmptyEnvelope, auth="optional", limit="mail",
               raises=(*SEND_TO_SELF, *MFA_LOGIN, *BEARER))
def otp_send(caller: api_logins.Principal | None, body: OtpSendBody):
    if caller is None:
        return send_login_code(body)
    if body.method == "email":
        email_verification.resend_or_refuse(caller.user, client=client_info())
    else:
        phone_verification.send_code(caller.user, client=client_info())
    return ok("Code sent.")


@dialect.route("/verify-email-otp", "POST", summary="Verify the email with the mailed code",
               request=EmailOtpBody, response=UserEnvelope, limit="code",
               fields={"code": "otp"},
               raises=ONE_TIME)
def verify_email_otp(body: EmailOtpBody):
    user = email_verification.verify_code_at_address(body.email, body.otp,
                                                     client=client_info())
    return ok("Email verified.", user_out(user))


@dialect.route("/verify-sms-otp", "POST", summary="Verify the phone with the texted code",
               request=SmsOtpBody, response=UserEnvelope, limit="code",
               fields={"code": "otp"},
               raises=ONE_TIME)
def verify_sms_otp(body: SmsOtpBody):
    user = phone_verification.verify(body.phoneNumber, body.otp, client=client_info())
    return ok("Phone number verified.", user_out(user))
