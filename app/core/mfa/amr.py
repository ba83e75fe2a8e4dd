"""Authentication method references (RFC 8176) a login ends with.

The first step brings its own (`pwd` for a password; a magic link's); each second factor
adds one (`otp` for any one-time code, `hwk` for a device-bound key, `swk` for a synced
passkey), and two different kinds together add `mfa`.
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
    """The union of the parts in order, with `mfa` when more than one part contributed."""
    merged: list[str] = []
    contributing = 0
    for part in parts:
        values = [value for value in part if value != MULTI_FACTOR]
        if values:
            contributing += 1
        merged.extend(value for value in values if value not in merged)
    if contributing > 1 or any(MULTI_FACTOR in part for part in parts):
        merged.append(MULTI_FACTOR)
    return merged
