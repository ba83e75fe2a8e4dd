"""modernauth's devices and trusted devices.

A device is one of the user's active sessions (the app or browser holding its tokens);
`trusted` says whether it runs on a trusted device, one that skips MFA at its next sign-in.
A trusted device no active session runs on (remembered on the hosted pages, or signed out
since) is listed as well, by its own id, with `signed_in: false`. A device can only be
trusted from itself (the device token must reach it); removing a device signs it out and
forgets its trust.
"""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.factor_changes import reauthenticate
from app.api.dialects.modernauth.shapes import (
    DeviceOut,
    MessageOut,
    ReauthBody,
    RevokeTrustBody,
)
from app.api.raises import FACTOR_CHANGE, OWN_ITEM
from app.core import api_logins, sessions
from app.core.errors import Forbidden, NotFound
from app.core.mfa import trusted_devices


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


def _trust_current(caller, body: ReauthBody) -> dict:
    """Trust the caller's own device; its token goes back in the answer, once."""
    reauthenticate(caller, body)
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
               body_required=False, auth=True,
               raises=FACTOR_CHANGE)
def mfa_trust_device(caller: api_logins.Principal, body: ReauthBody):
    return _trust_current(caller, body)


@dialect.route("/auth/mfa/revoke-trust", "POST",
               summary="Revoke MFA trust from a device (this one unless device_id names one)",
               request=RevokeTrustBody, body_required=False, response=MessageOut, auth=True,
               raises=OWN_ITEM)
def mfa_revoke_trust(caller: api_logins.Principal, body: RevokeTrustBody):
    _untrust(caller, body.device_id or _current_id(caller))
    return {"message": "The device is no longer trusted."}


@dialect.route("/devices", "GET", summary="List all registered devices", auth=True)
def devices(caller: api_logins.Principal):
    active, remembered = _devices(caller)
    return {"devices": [device_out(row, _current_id(caller)) for row in active]
            + [remembered_out(device) for device in remembered]}


@dialect.route("/devices/<device_id>", "GET", summary="Get device details",
               response=DeviceOut, auth=True,
               raises=OWN_ITEM)
def device_get(device_id: str, caller: api_logins.Principal):
    row, remembered = _find_device(caller, device_id)
    return device_out(row, _current_id(caller)) if row else remembered_out(remembered)


@dialect.route("/devices/<device_id>", "DELETE", summary="Remove/Logout a device",
               response=MessageOut, auth=True,
               raises=OWN_ITEM)
def device_delete(device_id: str, caller: api_logins.Principal):
    row, remembered = _find_device(caller, device_id)
    device = trusted_devices.for_session(caller.user, row.id) if row else remembered
    if device is not None:
        trusted_devices.revoke(caller.user, device.id, client=client_info())
    if row is None:
        return {"message": "The device was forgotten."}
    api_logins.end_user_session(caller.user, row.id, client=client_info())
    return {"message": "The device was signed out."}


@dialect.route("/devices/<device_id>/trust", "POST", summary="Mark device as trusted",
               request=ReauthBody, body_required=False, auth=True,
               raises=(*OWN_ITEM, *FACTOR_CHANGE))
def device_trust(device_id: str, caller: api_logins.Principal, body: ReauthBody):
    row, _remembered = _find_device(caller, device_id)
    if row is None or row.id != _current_id(caller):
        raise Forbidden("A device can only be trusted from itself: its device token is "
                        "handed to the device that asks.")
    trusted = _trust_current(caller, body)  # first: the device shown is trusted already
    return device_out(row, row.id) | trusted


@dialect.route("/devices/<device_id>/trust", "DELETE", summary="Remove trust from device",
               response=DeviceOut, auth=True,
               raises=OWN_ITEM)
def device_untrust(device_id: str, caller: api_logins.Principal):
    row, remembered = _find_device(caller, device_id)
    device = trusted_devices.for_session(caller.user, row.id) if row else remembered
    if device is not None:
        trusted_devices.revoke(caller.user, device.id, client=client_info())
    if row is None:
        return remembered_out(remembered) | {"trusted": False, "trusted_until": None}
    return device_out(row, _current_id(caller))
