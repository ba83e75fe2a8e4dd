"""Authentication method references (RFC 8176) a login ends with.

The first step brings its own (`pwd` for a password; a magic link's); each second factor
adds one (`otp` for any one-time code, `hwk` for a device-bound key, `swk` for a synced
passkey), and two different methods together add `mfa`.
"""

from __future__ import annotations

from collections.abc import Iterable

PASSWORD = "pwd"
ONE_TIME_CODE = "otp"
HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"
MULTI_FACTOR = "mfa"


def passkey(device_type: str) -> str:
    """A synced (multi-device) passkey lives in software keychains; others stay on one device."""
    return SOFTWARE_KEY if device_type == "multi_device" else HARDWARE_KEY


def combine(*parts: Iterable[str]) -> list[str]:
    """The union of the parts in order, with `mfa` when two different methods are in it."""
    merged: list[str] = []
    for part in parts:
        merged.extend(value for value in part if value not in merged)
    methods = [value for value in merged if value != MULTI_FACTOR]
    if len(methods) > 1 and MULTI_FACTOR not in merged:
        merged.append(MULTI_FACTOR)
    return merged
