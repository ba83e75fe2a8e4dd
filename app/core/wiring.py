"""The calls a lower core module makes into a higher one, connected once per app.

Sign-up sends the verification mail, ending every session ends the pending MFA logins,
the outbox drives its channels and the mail-request worker runs each flow's handler; yet the
mail flows import accounts, MFA imports sessions and the channels import the outbox. So the
lower module holds a hook on the app's services and this module, at the top of core, fills
them in: create_app() calls connect() once for each app it builds.
"""

from __future__ import annotations

from app.core.mail import (
    email_verification,
    magic_link,
    mail_requests,
    mailer,
    password_reset,
    sms,
)
from app.core.mail import one_time_tokens as ott
from app.core.mfa import challenges
from app.core.services import Services


def connect(services: Services) -> None:
    services.on_signup.append(email_verification.on_signup)
    services.on_all_sessions_ended.append(challenges.retire_all)
    # Mail requests first: carrying one out queues the mail that the mailer then delivers.
    services.outbox_channels.extend((mail_requests, mailer, sms))
    services.mail_request_handlers.update({
        ott.PASSWORD_RESET: password_reset.send_link,
        ott.VERIFY_EMAIL: email_verification.resend_for_address,
        ott.MAGIC_LINK: magic_link.send_link,
    })
