"""modernauth's MFA, passkey and device endpoints, on the same Dialect object as modernauth.

Signing in: /auth/login (and magic-link/verify) of a user with a second factor answer
`{"mfa_required": true, "user_id", "mfa_token", "methods", "preferred_method",
"expires_in"}` and issue no tokens. The login/mfa endpoints take `mfa_token` (or the
documented `user_id`) of that pending login, created by a correct first factor at most
TESSERA_MFA_CHALLENGE_TTL seconds ago, and share its TESSERA_MFA_CHALLENGE_ATTEMPTS
attempts; each route also has a per-IP limit. `remember_device: true` returns a
`device_token`; sending it as `device_token` with a later login skips MFA on that device.

Changing factors needs a recent authentication: a login within TESSERA_MFA_RECENT_AUTH, or
the account `password` (or a current second-factor `code`) in the same body. Those bodies
also take `revoke_other_sessions: true` to sign out everywhere else.

Devices: a device is one of the user's active sessions (the app or browser holding its
tokens); `trusted` says whether it runs on a trusted device, one that skips MFA at its next
sign-in. A trusted device no active session runs on (remembered on the hosted pages, or
signed out since) is listed as well, by its own id, with `signed_in: false`. A device can
only be trusted from itself (the device token must reach it); removing a device signs it
out and forgets its trust.
"""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import ConfigDict
from webauthn.helpers import bytes_to_base64url

from app.api import mfa as api_mfa
from app.api.common import Body, Reply, client_info, principal, read_json
from app.api.dialects.modernauth import dialect, session_out
from app.core import api_logins, sessions
from app.core.errors import Forbidden, NotFound, ValidationError
from app.core.mfa import email_codes, factors, passkeys, recovery_codes, totp, trusted_devices
from app.core.mfa import enrolment as mfa_enrolment
from app.core.mfa import status as mfa_status
from app.core.mfa.login import PendingLogin

# Per IP, on top of each pending login's own attempt budget.
dialect.rate_limits.update({"mfa_login": "20 per 15 minutes", "mfa_send": "5 per 15 minutes"})
# A wrong code tells how many tries the pending login has left.
dialect.error_details.update({"attempts_left": "attempts_left"})


# --- schemas -------------------------------------------------------------------------------

class PendingBody(Body):
    user_id: str | None = None
    mfa_token: str | None = None


class MfaCodeBody(PendingBody):
    code: str
    remember_device: bool = False


class CredentialBody(Body):
    """The browser's credential.toJSON() as the body, or under `credential`."""

    model_config = ConfigDict(extra="allow", strict=True, str_max_length=4096)
    # Checked by core (passkeys.credential_from_body), which names the field `credential`.
    credential: Any = None


class PasskeyLoginBody(CredentialBody):
    user_id: str | None = None
    mfa_token: str | None = None
    remember_device: bool = False


class PasskeyRegisterBody(CredentialBody):
    name: str | None = None


class ReauthBody(Body):
    """Optional proof of a recent authentication, and whether to end the other sessions."""

    password: str | None = None
    code: str | None = None
    method: str | None = None
    revoke_other_sessions: bool = False


class EnableBody(Body):
    code: str  # the authenticator app's code confirming set-up
    password: str | None = None
    revoke_other_sessions: bool = False


class DisableBody(Body):
    code: str | None = None
    password: str | None = None
    revoke_other_sessions: bool = False


class PreferredBody(Body):
    method: str


class DeleteCredentialBody(ReauthBody):
    credential_id: str | None = None
    id: str | None = None


class RevokeTrustBody(Body):
    device_id: str | None = None


class StatusOut(Reply):
    enabled: bool
    methods: list[str]
    preferred_method: str | None
    totp_enabled: bool
    email_enabled: bool
    webauthn_credentials: int
    backup_codes_remaining: int
    trusted_devices: int


class SetupOut(Reply):
    secret: str
    url: str
    qr_code: str


class MessageOut(Reply):
    message: str


class BackupCodesOut(Reply):
    backup_codes: list[str]


class CountOut(Reply):
    count: int


class PublicKeyOut(Reply):
    publicKey: dict  # noqa: N815 - the WebAuthn JSON name


class DeviceOut(Reply):
    id: str
    name: str | None
    ip: str | None
    created_at: str
    last_seen_at: str
    current: bool
    signed_in: bool  # False: a trusted device without an active session
    trusted: bool
    trusted_until: str | None


# --- shaping ---------------------------------------------------------------------------------

def mfa_required_out(pending: PendingLogin) -> dict:
    return {"mfa_required": True, "user_id": str(pending.user.id),
            "mfa_token": pending.mfa_token, "methods": pending.methods,
            "preferred_method": pending.preferred, "expires_in": pending.expires_in}


def status_out(user) -> dict:
    state = mfa_status.status(user)
    return {"enabled": state.enabled, "methods": state.methods,
            "preferred_method": state.preferred, "totp_enabled": state.totp,
            "email_enabled": state.email, "webauthn_credentials": state.passkeys,
            "backup_codes_remaining": state.recovery_codes_remaining,
            "trusted_devices": state.trusted_devices}


def passkey_out(row) -> dict:
    return {"id": str(row.id), "credential_id": bytes_to_base64url(row.credential_id),
            "name": row.name, "device_type": row.device_type, "backed_up": row.backed_up,
            "transports": list(row.transports or []), "aaguid": row.aaguid,
            "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}


def login_out(result) -> dict:
    """The documented answer to a first factor: a session, or the MFA step."""
    if isinstance(result, PendingLogin):
        return mfa_required_out(result)
    return session_out(result)


def completed_out(issued: api_logins.IssuedTokens, device_token: str | None) -> dict:
    body = session_out(issued)
    if device_token:
        body |= {"device_token": device_token,
                 "device_token_expires_in": trusted_devices.max_age()}
    return body


def _finish(method: str, value, body) -> dict:
    issued, device_token = api_logins.finish_mfa_login(
        method=method, value=value, mfa_token=body.mfa_token, user_id=body.user_id,
        dialect=dialect.id, client=client_info(), remember_device=body.remember_device)
    return completed_out(issued, device_token)


def _reauthenticated(caller=None) -> tuple:
    """The caller (its token checked before the body is read) and the optional ReauthBody,
    the caller proven again when the body carries a password or code."""
    caller = caller or principal()
    body = read_json(ReauthBody, optional=True)
    api_mfa.reauthenticate(caller, client=client_info(), password=body.password,
                           code=body.code, method=body.method)
    return caller, body


def _with_others_ended(message: dict, body, caller) -> dict:
    ended = api_mfa.end_others_if(body.revoke_other_sessions, caller, client=client_info())
    if ended is not None:
        message["revoked_sessions"] = ended
    return message


# --- signing in with a second factor -------------------------------------------------------

@dialect.route("/auth/login/mfa", "POST", summary="Complete login with TOTP code",
               request=MfaCodeBody, limit="mfa_login")
def login_mfa():
    body = read_json(MfaCodeBody)
    return _finish(factors.TOTP, body.code, body)


@dialect.route("/auth/login/mfa/backup", "POST", summary="Login using a backup code",
               request=MfaCodeBody, limit="mfa_login")
def login_mfa_backup():
    body = read_json(MfaCodeBody)
    return _finish(factors.RECOVERY_CODE, body.code, body)


@dialect.route("/auth/login/mfa/email/send", "POST", summary="Send MFA code to user's email",
               request=PendingBody, response=MessageOut, limit="mfa_send")
def login_mfa_email_send():
    body = read_json(PendingBody)
    api_logins.send_mfa_email_code(mfa_token=body.mfa_token, user_id=body.user_id,
                                   dialect=dialect.id, client=client_info())
    return {"message": "A sign-in code is on its way to your email address."}


@dialect.route("/auth/login/mfa/email", "POST", summary="Complete login with email MFA code",
               request=MfaCodeBody, limit="mfa_login")
def login_mfa_email():
    body = read_json(MfaCodeBody)
    return _finish(factors.EMAIL, body.code, body)


@dialect.route("/auth/login/mfa/webauthn/begin", "POST", summary="Begin WebAuthn login",
               request=PendingBody, response=PublicKeyOut, limit="mfa_login")
def login_mfa_webauthn_begin():
    body = read_json(PendingBody)
    return api_logins.mfa_passkey_options(mfa_token=body.mfa_token, user_id=body.user_id,
                                          dialect=dialect.id)


@dialect.route("/auth/login/mfa/webauthn/finish", "POST", summary="Complete WebAuthn login",
               request=PasskeyLoginBody, limit="mfa_login")
def login_mfa_webauthn_finish():
    body = read_json(PasskeyLoginBody)
    credential = body.credential if body.credential is not None else body.model_extra
    return _finish(factors.WEBAUTHN, credential, body)


# --- status and the authenticator app ------------------------------------------------------

@dialect.route("/auth/mfa/status", "GET", summary="Get MFA status and enabled methods",
               response=StatusOut, auth=True)
def mfa_status_view():
    return status_out(principal().user)


@dialect.route("/auth/mfa/setup", "POST", summary="Setup TOTP MFA", request=ReauthBody,
               body_required=False, response=SetupOut, auth=True)
def mfa_setup():
    caller, _body = _reauthenticated()
    setup = totp.begin_setup(caller.user, session=caller.session, client=client_info())
    return {"secret": setup.secret, "url": setup.uri, "qr_code": setup.qr_png_data_url}


@dialect.route("/auth/mfa/enable", "POST", summary="Enable TOTP MFA", request=EnableBody,
               response=BackupCodesOut, auth=True)
def mfa_enable():
    caller = principal()
    body = read_json(EnableBody)
    if body.password:
        api_mfa.reauthenticate(caller, client=client_info(), password=body.password)
    totp.enable(caller.user, body.code, session=caller.session, client=client_info())
    codes = recovery_codes.first_set(caller.user, session=caller.session, client=client_info())
    return _with_others_ended({"message": "Two-factor authentication is on.",
                               "backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/disable", "POST", summary="Disable TOTP MFA", request=DisableBody,
               response=MessageOut, auth=True)
def mfa_disable():
    caller = principal()
    body = read_json(DisableBody)
    totp.disable(caller.user, code=body.code, password=body.password, client=client_info())
    return _with_others_ended({"message": "The authenticator app is no longer used."},
                              body, caller)


@dialect.route("/auth/mfa/backup-codes", "POST", summary="Generate new backup codes",
               request=ReauthBody, body_required=False, response=BackupCodesOut, auth=True)
def mfa_backup_codes():
    caller, body = _reauthenticated()
    codes = recovery_codes.generate(caller.user, session=caller.session, client=client_info())
    return _with_others_ended({"backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/backup-codes/count", "GET",
               summary="Get remaining backup code count", response=CountOut, auth=True)
def mfa_backup_codes_count():
    return {"count": recovery_codes.remaining(principal().user)}


@dialect.route("/auth/mfa/preferred", "POST", summary="Set preferred MFA method",
               request=PreferredBody, response=MessageOut, auth=True)
def mfa_preferred():
    caller = principal()
    body = read_json(PreferredBody)
    mfa_enrolment.set_preferred(caller.user, body.method, client=client_info())
    return {"message": "Preferred method saved.", "preferred_method": body.method}


# --- email codes -------------------------------------------------------------------------------

@dialect.route("/auth/mfa/email/enable", "POST", summary="Enable email-based MFA",
               request=ReauthBody, body_required=False, response=MessageOut, auth=True)
def mfa_email_enable():
    caller, body = _reauthenticated()
    email_codes.enable(caller.user, session=caller.session, client=client_info())
    codes = recovery_codes.first_set(caller.user, session=caller.session, client=client_info())
    return _with_others_ended({"message": "Sign-in codes by email are on.",
                               "backup_codes": codes}, body, caller)


@dialect.route("/auth/mfa/email/disable", "POST", summary="Disable email-based MFA",
               request=ReauthBody, body_required=False, response=MessageOut, auth=True)
def mfa_email_disable():
    caller, body = _reauthenticated()
    email_codes.disable(caller.user, session=caller.session, client=client_info())
    return _with_others_ended({"message": "Sign-in codes by email are off."}, body, caller)


# --- passkeys ----------------------------------------------------------------------------------

@dialect.route("/auth/mfa/webauthn/register/begin", "POST",
               summary="Begin WebAuthn credential registration", request=ReauthBody,
               body_required=False, response=PublicKeyOut, auth=True)
def webauthn_register_begin():
    caller, _body = _reauthenticated()
    return passkeys.registration_options(caller.user, session=caller.session)


@dialect.route("/auth/mfa/webauthn/register/finish", "POST",
               summary="Complete WebAuthn credential registration",
               request=PasskeyRegisterBody, status=201, auth=True)
def webauthn_register_finish():
    caller = principal()
    body = read_json(PasskeyRegisterBody)
    credential = body.credential if body.credential is not None else body.model_extra
    row = passkeys.register(caller.user, credential, session=caller.session, name=body.name,
                            client=client_info())
    codes = recovery_codes.first_set(caller.user, session=caller.session, client=client_info())
    return {"credential": passkey_out(row), "backup_codes": codes}, 201


@dialect.route("/auth/mfa/webauthn/credentials", "GET",
               summary="List registered WebAuthn credentials", auth=True)
def webauthn_credentials():
    return {"credentials": [passkey_out(row)
                            for row in passkeys.list_credentials(principal().user)]}


@dialect.route("/auth/mfa/webauthn/credentials", "DELETE",
               summary="Delete a WebAuthn credential (credential_id in the body or ?id=)",
               request=DeleteCredentialBody, body_required=False, response=MessageOut,
               auth=True)
def webauthn_credential_delete():
    caller = principal()
    body = read_json(DeleteCredentialBody, optional=True)
    credential_id = body.credential_id or body.id or request.args.get("id")
    if not credential_id:
        raise ValidationError("Name the passkey to delete.", field="credential_id")
    api_mfa.reauthenticate(caller, client=client_info(), password=body.password,
                           code=body.code, method=body.method)
    passkeys.delete(caller.user, credential_id, session=caller.session, client=client_info())
    return _with_others_ended({"message": "Passkey deleted."}, body, caller)


# --- trusted devices -------------------------------------------------------------------------

def device_out(row, current_id) -> dict:
    """A device with a session: the app or browser signed in with it."""
    device = trusted_devices.for_session(row.user, row.id)
    return {"id": str(row.id), "name": row.user_agent, "ip": row.ip_address,
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(), "current": row.id == current_id,
            "signed_in": True, "trusted": device is not None,
            "trusted_until": device.expires_at.isoformat() if device else None}


def remembered_out(device) -> dict:
    """A trusted device no active session runs on (remembered on the hosted pages, or
    signed out since): listed so that it can be forgotten."""
    return {"id": str(device.id), "name": device.label, "ip": device.ip_address,
            "created_at": device.created_at.isoformat(),
            "last_seen_at": (device.last_used_at or device.created_at).isoformat(),
            "current": False, "signed_in": False, "trusted": True,
            "trusted_until": device.expires_at.isoformat()}


def _devices(caller) -> tuple[list, list]:
    """The caller's active sessions, and their trusted devices no active session runs on."""
    active = sessions.active_sessions(caller.user)
    ids = {row.id for row in active}
    return active, [device for device in trusted_devices.list_for_user(caller.user)
                    if device.session_id not in ids]


def _find_device(caller, device_id: str) -> tuple:
    """(session, None) or (None, trusted device) for an id from the list; else NotFound."""
    active, remembered = _devices(caller)
    for row in active:
        if str(row.id) == device_id:
            return row, None
    for device in remembered:
        if str(device.id) == device_id:
            return None, device
    raise NotFound("Device not found.", field="id")


def _current_id(caller):
    return caller.session.id if caller.session else None


def _trust_current(caller=None) -> dict:
    """Trust the caller's own device; its token goes back in the answer, once."""
    caller, _body = _reauthenticated(caller)
    device, token = trusted_devices.trust_session(caller.user, caller.session,
                                                  client=client_info())
    return {"device_id": str(caller.session.id), "device_token": token,
            "trusted_until": device.expires_at.isoformat(),
            "expires_in": trusted_devices.max_age()}


def _untrust(caller, device_id) -> None:
    """device_id: a device (session) id, or the id of a trusted device itself."""
    device = trusted_devices.for_session(caller.user, device_id)
    trusted_devices.revoke(caller.user, device.id if device else device_id,
                           client=client_info())


@dialect.route("/auth/mfa/trust-device", "POST",
               summary="Trust this device for MFA (skip MFA for N days)", request=ReauthBody,
               body_required=False, auth=True)
def mfa_trust_device():
    return _trust_current()


@dialect.route("/auth/mfa/revoke-trust", "POST",
               summary="Revoke MFA trust from a device (this one unless device_id names one)",
               request=RevokeTrustBody, body_required=False, response=MessageOut, auth=True)
def mfa_revoke_trust():
    caller = principal()
    body = read_json(RevokeTrustBody, optional=True)
    _untrust(caller, body.device_id or _current_id(caller))
    return {"message": "The device is no longer trusted."}


@dialect.route("/devices", "GET", summary="List all registered devices", auth=True)
def devices():
    caller = principal()
    active, remembered = _devices(caller)
    return {"devices": [device_out(row, _current_id(caller)) for row in active]
            + [remembered_out(device) for device in remembered]}


@dialect.route("/devices/<device_id>", "GET", summary="Get device details",
               response=DeviceOut, auth=True)
def device_get(device_id: str):
    caller = principal()
    row, remembered = _find_device(caller, device_id)
    return device_out(row, _current_id(caller)) if row else remembered_out(remembered)


@dialect.route("/devices/<device_id>", "DELETE", summary="Remove/Logout a device",
               response=MessageOut, auth=True)
def device_delete(device_id: str):
    caller = principal()
    row, remembered = _find_device(caller, device_id)
    device = trusted_devices.for_session(caller.user, row.id) if row else remembered
    if device is not None:
        trusted_devices.revoke(caller.user, device.id, client=client_info())
    if row is None:
        return {"message": "The device was forgotten."}
    api_logins.end_user_session(caller.user, row.id, client=client_info())
    return {"message": "The device was signed out."}


@dialect.route("/devices/<device_id>/trust", "POST", summary="Mark device as trusted",
               request=ReauthBody, body_required=False, auth=True)
def device_trust(device_id: str):
    caller = principal()
    row, _remembered = _find_device(caller, device_id)
    if row is None or row.id != _current_id(caller):
        raise Forbidden("A device can only be trusted from itself: its device token is "
                        "handed to the device that asks.")
    trusted = _trust_current(caller)
    return device_out(row, row.id) | trusted


@dialect.route("/devices/<device_id>/trust", "DELETE", summary="Remove trust from device",
               response=DeviceOut, auth=True)
def device_untrust(device_id: str):
    caller = principal()
    row, remembered = _find_device(caller, device_id)
    device = trusted_devices.for_session(caller.user, row.id) if row else remembered
    if device is not None:
        trusted_devices.revoke(caller.user, device.id, client=client_info())
    if row is None:
        return remembered_out(remembered) | {"trusted": False, "trusted_until": None}
    return device_out(row, _current_id(caller))
