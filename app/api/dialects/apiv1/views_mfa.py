"""apiv1's second factors.

Signing in: /login of a user with a second factor answers 200 with data
`{"mfaRequired": true, "mfaToken", "methods", "preferredMethod", "expiresIn"}` and no
tokens. `otp/send` with `{"method": "email", "mfaToken"}` and no bearer token mails that
login's email code. `verify-totp` ({code, mfaToken}) and `verify-mfa` ({code, method,
mfaToken}) finish that login and return what /login returns for everyone else; the
pending login allows TESSERA_MFA_CHALLENGE_ATTEMPTS attempts within
TESSERA_MFA_CHALLENGE_TTL seconds. With a bearer token and no mfaToken, both are a step-up
check instead: the code re-authenticates the token's session (so a factor change may
follow) and no new token is issued. Neither ever signs anyone in without the password
first. `rememberDevice: true` returns a
`deviceToken`; sent as `deviceToken` with a later /login it skips MFA on that device.

Set-up needs a recent authentication: a login within TESSERA_MFA_RECENT_AUTH, or the
account `password` (or a current second-factor `code`) in the set-up body.

reset-user-mfa is an administrator's: the account is named by `userId` or `email` (the
document shows no body; a reset of one's own MFA by a bare token is refused, since a
stolen token must not be able to strip the second factor).
"""

from __future__ import annotations

from app.api import mfa as api_mfa
from app.api.common import bearer_token, client_info, principal
from app.api.dialects.apiv1.document import dialect
from app.api.dialects.apiv1.shapes import (
    DisableBody,
    EnableBody,
    Envelope,
    ResetUserMfaBody,
    SetupBody,
    VerifyMfaBody,
    VerifyTotpBody,
    ok,
    sign_in_out,
)
from app.api.raises import ADMIN, BEARER, FACTOR_CHANGE, MFA_LOGIN, STEP_UP
from app.core import admin, api_logins
from app.core.errors import InvalidInput
from app.core.mfa import factors, totp, trusted_devices
from app.core.mfa import status as mfa_status


def status_out(user) -> dict:
    state = mfa_status.status(user)
    return {"mfaEnabled": state.enabled, "methods": state.methods,
            "preferredMethod": state.preferred, "backupCodesRemaining":
            state.recovery_codes_remaining}


def _core_method(method: str) -> str:
    # "backup_code" is how people call what core calls a recovery code.
    return factors.RECOVERY_CODE if method == "backup_code" else method


def _verify(method: str, body):
    """Finish a pending login (mfaToken), or with only a bearer token, step up."""
    # The token is looked at only when no mfaToken is sent (the route is not `auth`): a
    # pending login is finished whatever Authorization header comes with it.
    if body.mfaToken is None and bearer_token() is not None:
        caller = principal()
        api_mfa.reauthenticate(caller, client=client_info(), code=body.code, method=method)
        return ok("MFA verified.", {"verified": True, "method": method,
                                    "authTime": caller.session.auth_time.isoformat()})
    if body.mfaToken is None:
        raise InvalidInput("Send the mfaToken from /login.", field="mfaToken")
    issued, device_token = api_logins.finish_mfa_login(
        method=method, value=body.code, mfa_token=body.mfaToken, dialect=dialect.id,
        client=client_info(), remember_device=body.rememberDevice)
    data = sign_in_out(issued)
    if device_token:
        data |= {"deviceToken": device_token, "deviceTokenExpiresIn": trusted_devices.max_age()}
    return ok("Login successful.", data)


@dialect.route("/mfa/setup", "POST", summary="Start TOTP set-up (secret, otpauth URL, QR)",
               request=SetupBody, body_required=False, response=Envelope, auth=True,
               raises=FACTOR_CHANGE)
def mfa_setup(caller: api_logins.Principal, body: SetupBody):
    setup = api_mfa.begin_totp_setup(caller, client=client_info(), password=body.password,
                                     code=body.code)
    return ok("Scan the QR code, then confirm with a code.", {
        "method": "totp", "secret": setup.secret, "otpauthUrl": setup.uri,
        "qrCode": setup.qr_png_data_url})


@dialect.route("/mfa/enable", "POST", summary="Confirm TOTP set-up with a code",
               request=EnableBody, response=Envelope, auth=True,
               raises=FACTOR_CHANGE)
def mfa_enable(caller: api_logins.Principal, body: EnableBody):
    codes = api_mfa.enable_totp(caller, body.code, client=client_info(),
                                password=body.password)
    data = {"mfaEnabled": True, "backupCodes": codes}
    ended = api_mfa.end_others_if(body.revokeOtherSessions, caller, client=client_info())
    if ended is not None:
        data["revokedSessions"] = ended
    return ok("MFA enabled.", data)


@dialect.route("/mfa/disable", "POST", summary="Turn TOTP off (a current code or the password)",
               request=DisableBody, response=Envelope, auth=True,
               raises=FACTOR_CHANGE)
def mfa_disable(caller: api_logins.Principal, body: DisableBody):
    totp.disable(caller.user, code=body.code, password=body.password, client=client_info())
    api_mfa.end_others_if(body.revokeOtherSessions, caller, client=client_info())
    return ok("MFA disabled.", status_out(caller.user))


@dialect.route("/verify-mfa", "POST",
               summary="Finish an MFA login (mfaToken), or step up a session (bearer)",
               request=VerifyMfaBody, response=Envelope, limit="mfa_login",
               raises=(*MFA_LOGIN, *STEP_UP, *BEARER))
def verify_mfa(body: VerifyMfaBody):
    return _verify(_core_method(body.method), body)


@dialect.route("/verify-totp", "POST",
               summary="Finish an MFA login with a TOTP code (mfaToken), or step up (bearer)",
               request=VerifyTotpBody, response=Envelope, limit="mfa_login",
               raises=(*MFA_LOGIN, *STEP_UP, *BEARER))
def verify_totp(body: VerifyTotpBody):
    return _verify(factors.TOTP, body)


@dialect.route("/reset-user-mfa", "POST",
               summary="Remove every second factor of an account (administrators; audited)",
               request=ResetUserMfaBody, response=Envelope, auth=True,
               raises=ADMIN)
def reset_user_mfa(caller: api_logins.Principal, body: ResetUserMfaBody):
    if body.userId is not None and body.email is not None:
        raise InvalidInput("Send either userId or email, not both.", field="userId")
    target = body.userId if body.userId is not None else body.email
    if target is None:
        raise InvalidInput("Name the account by userId or email.", field="userId")
    user = admin.reset_mfa(target, actor=caller.user, client=client_info(),
                                          reason=body.reason)
    return ok("MFA reset.", {"userId": str(user.id), **status_out(user)})
