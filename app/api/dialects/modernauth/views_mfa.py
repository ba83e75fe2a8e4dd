"""modernauth's second factors: the status, the authenticator app, recovery ("backup")
codes, the preferred method and sign-in codes by email (see factor_changes for the proof
each change needs)."""

from __future__ import annotations

from app.api import mfa as api_mfa
from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.factor_changes import reauthenticate, with_others_ended
from app.api.dialects.modernauth.shapes import (
    BackupCodesOut,
    CountOut,
    DisableBody,
    EnableBody,
    MessageOut,
    PreferredBody,
    ReauthBody,
    SetupOut,
    StatusOut,
)
from app.api.raises import FACTOR_CHANGE
from app.core import api_logins
from app.core.mfa import email_codes, recovery_codes, totp
from app.core.mfa import enrolment as mfa_enrolment
from app.core.mfa import status as mfa_status


def status_out(user) -> dict:
    state = mfa_status.status(user)
    return {"enabled": state.enabled, "methods": state.methods,
            "preferred_method": state.preferred, "totp_enabled": state.totp,
            "email_enabled": state.email, "webauthn_credentials": state.passkeys,
            "backup_codes_remaining": state.recovery_codes_remaining,
            "trusted_devices": state.trusted_devices}


# --- status and the authenticator app ------------------------------------------------------

@dialect.route("/auth/mfa/status", "GET", summary="Get MFA status and enabled methods",
               response=StatusOut, auth=True)
def mfa_status_view(caller: api_logins.Principal):
    return status_out(caller.user)


@dialect.route("/auth/mfa/setup", "POST", summary="Setup TOTP MFA", request=ReauthBody,
               body_required=False, response=SetupOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_setup(caller: api_logins.Principal, body: ReauthBody):
    setup = api_mfa.begin_totp_setup(caller, client=client_info(), password=body.password,
                                     code=body.code, method=body.method)
    return {"secret": setup.secret, "url": setup.uri, "qr_code": setup.qr_png_data_url}


@dialect.route("/auth/mfa/enable", "POST", summary="Enable TOTP MFA", request=EnableBody,
               response=BackupCodesOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_enable(caller: api_logins.Principal, body: EnableBody):
    codes = api_mfa.enable_totp(caller, body.code, client=client_info(),
                                password=body.password)
    return with_others_ended({"message": "Two-factor authentication is on.",
                              "backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/disable", "POST", summary="Disable TOTP MFA", request=DisableBody,
               response=MessageOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_disable(caller: api_logins.Principal, body: DisableBody):
    totp.disable(caller.user, code=body.code, password=body.password, client=client_info())
    return with_others_ended({"message": "The authenticator app is no longer used."},
                             body, caller)


@dialect.route("/auth/mfa/backup-codes", "POST", summary="Generate new backup codes",
               request=ReauthBody, body_required=False, response=BackupCodesOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_backup_codes(caller: api_logins.Principal, body: ReauthBody):
    reauthenticate(caller, body)
    codes = recovery_codes.generate(caller.user, session=caller.session, client=client_info())
    return with_others_ended({"backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/backup-codes/count", "GET",
               summary="Get remaining backup code count", response=CountOut, auth=True)
def mfa_backup_codes_count(caller: api_logins.Principal):
    return {"count": recovery_codes.remaining(caller.user)}


@dialect.route("/auth/mfa/preferred", "POST", summary="Set preferred MFA method",
               request=PreferredBody, response=MessageOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_preferred(caller: api_logins.Principal, body: PreferredBody):
    mfa_enrolment.set_preferred(caller.user, body.method, client=client_info())
    return {"message": "Preferred method saved.", "preferred_method": body.method}


# --- email codes -------------------------------------------------------------------------------

@dialect.route("/auth/mfa/email/enable", "POST", summary="Enable email-based MFA",
               request=ReauthBody, body_required=False, response=MessageOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_email_enable(caller: api_logins.Principal, body: ReauthBody):
    reauthenticate(caller, body)
    codes = api_mfa.enable_email_codes(caller, client=client_info())
    return with_others_ended({"message": "Sign-in codes by email are on.",
                              "backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/email/disable", "POST", summary="Disable email-based MFA",
               request=ReauthBody, body_required=False, response=MessageOut, auth=True,
               raises=FACTOR_CHANGE)
def mfa_email_disable(caller: api_logins.Principal, body: ReauthBody):
    reauthenticate(caller, body)
    email_codes.disable(caller.user, session=caller.session, client=client_info())
    return with_others_ended({"message": "Sign-in codes by email are off."}, body, caller)
