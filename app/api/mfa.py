"""What the dialects that document MFA share: re-authentication before a factor change,
the factor changes themselves, and ending the other sessions on request.

Core refuses a factor change (reauthentication_required) unless the caller's session
authenticated within TESSERA_MFA_RECENT_AUTH. A fresh login is recent; an older token
proves its holder again by sending the account password, or a current second-factor code,
in the same request body.

A factor turned on hands out the account's first recovery codes (none once a set exists),
so every dialect that turns one on answers with them.
"""

from __future__ import annotations

from app.core import api_logins
from app.core.context import ClientInfo
from app.core.errors import ReauthenticationRequired
from app.core.mfa import email_codes, factors, passkeys, recent_auth, recovery_codes, totp

# The second factors a dialect can check when its document has no passkey ceremony.
CODE_METHODS = (factors.TOTP, factors.EMAIL, factors.RECOVERY_CODE)


def code_method(user, code: str, method: str | None = None) -> str:
    """Which factor a bare code is for: the one named, else a 6-digit code is the
    authenticator app's (or the email code when that is the only code factor), and anything
    longer a recovery code."""
    if method:
        return method
    if len(code.strip()) == 6 and code.strip().isdigit():
        return factors.TOTP if totp.is_enabled(user) else factors.EMAIL
    return factors.RECOVERY_CODE


def reauthenticate(caller: api_logins.Principal, *, client: ClientInfo,
                   password: str | None = None, code: str | None = None,
                   method: str | None = None) -> None:
    """Prove the caller again when the body carries a password or a code; with neither,
    nothing happens here and core decides whether the session is recent enough."""
    if caller.session is None:
        raise ReauthenticationRequired()
    if password:
        recent_auth.confirm_password(caller.session, password, client=client)
    elif code:
        factors.confirm_factor(caller.session, code_method(caller.user, code, method),
                               code, client=client)


def end_others_if(asked: bool | None, caller: api_logins.Principal, *,
                  client: ClientInfo) -> int | None:
    """End the caller's other sessions when the request asked; the count, or None."""
    if not asked:
        return None
    return api_logins.end_other_sessions(caller, reason="mfa_changed", client=client)


def begin_totp_setup(caller: api_logins.Principal, *, client: ClientInfo,
                     password: str | None = None, code: str | None = None,
                     method: str | None = None) -> totp.TotpSetup:
    """Start the authenticator app's set-up, the caller proven again first when the body
    carries a password or a code: the secret and what the user scans."""
    reauthenticate(caller, client=client, password=password, code=code, method=method)
    return totp.begin_setup(caller.user, session=caller.session, client=client)


def enable_totp(caller: api_logins.Principal, code: str, *, client: ClientInfo,
                password: str | None = None) -> list[str]:
    """Confirm the set-up with the app's first code (after the password, when one is sent);
    the first recovery codes."""
    if password:
        reauthenticate(caller, client=client, password=password)
    totp.enable(caller.user, code, session=caller.session, client=client)
    return _first_recovery_codes(caller, client=client)


def enable_email_codes(caller: api_logins.Principal, *, client: ClientInfo) -> list[str]:
    """Turn on sign-in codes by email; the first recovery codes."""
    email_codes.enable(caller.user, session=caller.session, client=client)
    return _first_recovery_codes(caller, client=client)


def register_passkey(caller: api_logins.Principal, credential: object, *,
                     name: str | None, client: ClientInfo) -> tuple:
    """Register the browser's new credential: the passkey row and the first recovery codes."""
    row = passkeys.register(caller.user, credential, session=caller.session, name=name,
                            client=client)
    return row, _first_recovery_codes(caller, client=client)


def _first_recovery_codes(caller: api_logins.Principal, *, client: ClientInfo) -> list[str]:
    return recovery_codes.first_set(caller.user, session=caller.session, client=client)
