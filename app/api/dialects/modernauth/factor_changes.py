"""What modernauth's factor changes share: the body's proof of a recent authentication,
and its `revoke_other_sessions`.

Changing factors needs a recent authentication: a login within TESSERA_MFA_RECENT_AUTH, or
the account `password` (or a current second-factor `code`, of the factor `method` names) in
the same body. Those bodies also take `revoke_other_sessions: true` to sign out everywhere
else; the answer then counts the sessions ended as `revoked_sessions`.
"""

from __future__ import annotations

from app.api import mfa as api_mfa
from app.api.common import client_info
from app.api.dialects.modernauth.shapes import ReauthBody
from app.core import api_logins


def reauthenticate(caller: api_logins.Principal, body: ReauthBody) -> None:
    """Prove the caller again when the body carries a password or a code."""
    api_mfa.reauthenticate(caller, client=client_info(), password=body.password,
                           code=body.code, method=body.method)


def with_others_ended(message: dict, body, caller: api_logins.Principal) -> dict:
    """The answer, after ending the caller's other sessions when the body asks."""
    ended = api_mfa.end_others_if(body.revoke_other_sessions, caller, client=client_info())
    if ended is not None:
        message["revoked_sessions"] = ended
    return message
