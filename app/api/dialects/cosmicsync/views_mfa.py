"""cosmicsync's second factors.

The document has two endpoints: `/auth/mfa/enable` (bearer) answers `{secret, qr_code}` (a
PNG data URL) and starts the authenticator-app set-up; `/auth/mfa/verify` takes `{code}`.
Tessera gives verify three meanings, none of which lets a code stand in for a password:
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

from app.api import mfa as api_mfa
from app.api.common import bearer_token, client_info, principal
from app.api.dialects.cosmicsync.document import dialect
from app.api.dialects.cosmicsync.shapes import (
    EnableBody,
    EnableOut,
    VerifyBody,
    VerifyOut,
    token_out,
)
from app.api.raises import BEARER, FACTOR_CHANGE, MFA_LOGIN, STEP_UP
from app.core import api_logins
from app.core.errors import MfaNotEnabled
from app.core.mfa import factors, totp, trusted_devices

VERIFIED = "MFA verified successfully"


@dialect.route("/auth/mfa/enable", "POST", summary="Start authenticator-app set-up",
               request=EnableBody, body_required=False, response=EnableOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_enable(caller: api_logins.Principal, body: EnableBody):
    setup = api_mfa.begin_totp_setup(caller, client=client_info(), password=body.password,
                                     code=body.code)
    return {"secret": setup.secret, "qr_code": setup.qr_png_data_url}


def _finish_login(body: VerifyBody) -> dict:
    issued, device_token = api_logins.finish_mfa_login(
        method=body.method, value=body.code, mfa_token=body.mfa_token,
        dialect=dialect.id, client=client_info(), remember_device=body.remember_device)
    answer = {"message": VERIFIED, **token_out(issued)}
    if device_token:
        answer |= {"device_token": device_token,
                   "device_token_expires_in": trusted_devices.max_age()}
    return answer


@dialect.route("/auth/mfa/verify", "POST",
               summary="Finish an MFA login (mfa_token), confirm set-up, or step up (bearer)",
               request=VerifyBody, response=VerifyOut, limit="mfa_login",
               raises=(*MFA_LOGIN, *FACTOR_CHANGE, *STEP_UP, *BEARER))
def mfa_verify(body: VerifyBody):
    # The token is looked at only when no mfa_token is sent (the route is not `auth`): a
    # pending login is finished whatever Authorization header comes with it.
    if body.mfa_token is not None or bearer_token() is None:
        return _finish_login(body)
    caller = principal()
    if body.method == factors.TOTP and totp.setup_pending(caller.user):
        codes = api_mfa.enable_totp(caller, body.code, client=client_info())
        return {"message": VERIFIED, "backup_codes": codes}
    if not totp.is_enabled(caller.user) and body.method == factors.TOTP:
        raise MfaNotEnabled("Start with /auth/mfa/enable.", field="code")
    api_mfa.reauthenticate(caller, client=client_info(), code=body.code, method=body.method)
    return {"message": VERIFIED}
