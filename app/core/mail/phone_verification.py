"""Phone verification: a 6-digit code by SMS, typed back to prove the number.

`send_code()` needs a signed-in user with a phone number; sends to one number are limited
(TESSERA_SMS_SEND_LIMIT) and a refused send says so (429): the caller already knows the
number, so there is nothing to hide. `verify()` takes the number and the code, as apiv1's
document does; a wrong code spends one of the code's attempts, and a number with no live
code gets the same answer as a wrong code.
"""

from __future__ import annotations

from app.core import accounts, audit
from app.core.context import ClientInfo
from app.core.errors import InvalidInput, RateLimited
from app.core.mail import one_time_tokens as ott
from app.core.mail import sms
from app.core.services import services, setting
from app.models import User


def send_code(user: User, *, client: ClientInfo | None = None) -> None:
    """Text a fresh code to the user's phone. InvalidInput (field `phone`) without a
    number; RateLimited when the number had its share of codes."""
    if not user.phone:
        raise InvalidInput("Add a phone number to your profile first.", field="phone")
    retry_after = services().throttle.consume(setting("SMS_SEND_LIMIT"), "sms",
                                              ott.VERIFY_PHONE, user.phone)
    if retry_after is not None:
        audit.record(audit.PHONE_CODE_SENT, user_id=user.id, client=client, sent=False,
                     reason="throttled")
        raise RateLimited("Too many codes sent to this number. Try again later.",
                          retry_after=retry_after)
    code = ott.issue_code(user, ott.VERIFY_PHONE)
    minutes = max(1, setting("PHONE_VERIFICATION_TTL") // 60)
    sms.queue(user.phone, f"Your Tessera verification code is {code}. "
                          f"It expires in {minutes} minutes.", purpose=ott.VERIFY_PHONE)
    audit.record(audit.PHONE_CODE_SENT, user_id=user.id, client=client, sent=True)


def verify(phone: object, code: object, *, client: ClientInfo | None = None) -> User:
    """Mark the phone verified with the code sent to it. InvalidInput for a malformed
    number; otherwise a number that was sent no code, or whose code expired or went to an
    account that has another number now, answers exactly like a wrong code (WrongCode,
    field `code`; see one_time_tokens.consume_code_sent_to)."""
    number = accounts.clean_phone(phone)
    if number is None:
        raise InvalidInput("Enter a valid phone number.", field="phone")
    user = ott.consume_code_sent_to(number, code, ott.VERIFY_PHONE, client=client)
    user.phone_verified = True
    audit.record(audit.PHONE_VERIFIED, user_id=user.id, client=client)
    return user
