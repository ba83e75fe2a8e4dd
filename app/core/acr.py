"""Authentication context class references (OIDC Core §2, acr / acr_values).

Tessera knows two levels and advertises both in discovery (acr_values_supported):

    urn:tessera:acr:1fa   one factor: a password, a sign-in link, a remembered device
    urn:tessera:acr:mfa   an independent second factor was passed (TOTP, recovery code,
                          passkey; an email code only after a password, since after a
                          sign-in link it proves the same mailbox again), or a passkey with
                          user verification signed in alone

A session gets its level when it starts (or when it steps up). An authorization request
whose acr_values names the MFA level forces it: a person signed in with one factor is sent
to the second-factor step (a trusted device does not count), and a person with no factor
enrolled is answered `unmet_authentication_requirements` (OpenID Connect Unmet
Authentication Requirements 1.0), as Keycloak does for a level it cannot reach.
"""

from __future__ import annotations

from app.core.mfa import amr as amr_values

ONE_FACTOR = "urn:tessera:acr:1fa"
MFA = "urn:tessera:acr:mfa"
SUPPORTED = [ONE_FACTOR, MFA]


# Second factors that prove something no first factor (password, mailbox) already did.
INDEPENDENT_FACTORS = ("totp", "recovery_code", "webauthn")


def for_login(amr: list[str], *, second_factor: str | None = None) -> str:
    """The level a new (or stepped-up) session has; second_factor: the method a challenge
    was just passed with."""
    amr = amr or []
    if amr_values.MULTI_FACTOR in amr or second_factor in INDEPENDENT_FACTORS:
        return MFA
    if second_factor == "email" and amr_values.PASSWORD in amr:
        return MFA
    return ONE_FACTOR


def requires_mfa(acr_values: list[str], claims: dict | None = None) -> bool:
    """Does the request insist on the MFA level? Through acr_values, or an essential `acr`
    claim (OIDC Core §5.5.1.1), and only when MFA is the one level it names: a request
    listing both accepts one factor (they are in order of preference)."""
    if MFA in acr_values and ONE_FACTOR not in acr_values:
        return True
    wanted = ((claims or {}).get("id_token") or {}).get("acr")
    if not isinstance(wanted, dict) or wanted.get("essential") is not True:
        return False
    values = wanted.get("values") if isinstance(wanted.get("values"), list) else [
        wanted.get("value")]
    return MFA in values and ONE_FACTOR not in values


def has_mfa(acr: str | None) -> bool:
    return acr == MFA
