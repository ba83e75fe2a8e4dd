"""cosmicsync's MFA endpoints, registered on the cosmicsync Dialect object.

The document has two: `/auth/mfa/enable` (bearer) answers `{secret, qr_code}` (a PNG data
URL) and starts the authenticator-app set-up; `/auth/mfa/verify` takes `{code}`. Tessera
gives verify three meanings, none of which lets a code stand in for a password:
- with `mfa_token` (from /auth/login of a user with MFA, which answers `{"mfa_required":
  true, "mfa_token", "methods", "expires_in"}` and no token) it finishes that login and
  answers the documented message plus `{token, expires_in}`; `method` may name `email` or
  `recovery_code` instead of the app, `remember_device: true` adds a `device_token` that
  /auth/login accepts as `device_token` to skip MFA on that device; when email codes are
  the user's preferred method, login mails the code at once (`email_code_sent`), since the
  document has no endpoint to ask for it;
- with a bearer token while set-up waits for its first code, it turns MFA on (and returns
  `backup_codes`, once);
- with a bearer token once MFA is on, it is a step-up check of the token's session.
Starting set-up needs a recent authentication (a login within TESSERA_MFA_RECENT_AUTH, or
`password` in the enable body).
"""

from __future__ import annotations

from typing import Literal

from app.api import mfa as api_mfa
from app.api.common import Body, Reply, bearer_token, client_info, principal, read_json
from app.api.dialects.cosmicsync import dialect, token_out
from app.core import api_logins
from app.core.errors import MfaNotEnabled, RateLimited
from app.core.mfa import factors, recovery_codes, totp, trusted_devices
from app.core.mfa.login import PendingLogin

dialect.rate_limits.update({"mfa_login": "20 per 15 minutes"})
# A wrong code tells how many tries the pending login has left.
dialect.error_details.update({"attempts_left": "attempts_left"})
VERIFIED = "MFA verified successfully"


class EnableBody(Body):
    password: str | None = None
    code: str | None = None  # a current code of another factor, to re-authenticate


class VerifyBody(Body):
    code: str
    mfa_token: str | None = None
    method: Literal["totp", "email", "recovery_code"] = "totp"
    remember_device: bool = False


class EnableOut(Reply):
    secret: str
    qr_code: str


class VerifyOut(Reply):
    message: str


def login_answer(result) -> dict:
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


@dialect.route("/auth/mfa/enable", "POST", summary="Start authenticator-app set-up",
               request=EnableBody, body_required=False, response=EnableOut, auth=True)
def mfa_enable():
    caller = principal()
    body = read_json(EnableBody, optional=True)
    api_mfa.reauthenticate(caller, client=client_info(), password=body.password,
                           code=body.code)
    setup = totp.begin_setup(caller.user, session=caller.session, client=client_info())
    return {"secret": setup.secret, "qr_code": setup.qr_png_data_url}


@dialect.route("/auth/mfa/verify", "POST",
               summary="Finish an MFA login (mfa_token), confirm set-up, or step up (bearer)",
               request=VerifyBody, response=VerifyOut, limit="mfa_login")
def mfa_verify():
    body = read_json(VerifyBody)
    if body.mfa_token is not None or bearer_token() is None:
        issued, device_token = api_logins.finish_mfa_login(
            method=body.method, value=body.code, mfa_token=body.mfa_token,
            dialect=dialect.id, client=client_info(), remember_device=body.remember_device)
        answer = {"message": VERIFIED, **token_out(issued)}
        if device_token:
            answer |= {"device_token": device_token,
                       "device_token_expires_in": trusted_devices.max_age()}
        return answer
    caller = principal()
    if body.method == factors.TOTP and totp.setup_pending(caller.user):
        totp.enable(caller.user, body.code, session=caller.session, client=client_info())
        codes = recovery_codes.first_set(caller.user, session=caller.session,
                                         client=client_info())
        return {"message": VERIFIED, "backup_codes": codes}
    if not totp.is_enabled(caller.user) and body.method == factors.TOTP:
        raise MfaNotEnabled("Start with /auth/mfa/enable.", field="code")
    api_mfa.reauthenticate(caller, client=client_info(), code=body.code, method=body.method)
    return {"message": VERIFIED}
