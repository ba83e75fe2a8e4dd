"""modernauth's second step of signing in.

/auth/login (and magic-link/verify) of a user with a second factor answer
`{"mfa_required": true, "user_id", "mfa_token", "methods", "preferred_method",
"expires_in"}` and issue no tokens. The login/mfa endpoints take `mfa_token` (or the
documented `user_id`) of that pending login, created by a correct first factor at most
TESSERA_MFA_CHALLENGE_TTL seconds ago, and share its TESSERA_MFA_CHALLENGE_ATTEMPTS
attempts; each route also has a per-IP limit. `remember_device: true` returns a
`device_token`; sending it as `device_token` with a later login skips MFA on that device.
"""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.shapes import (
    MessageOut,
    MfaCodeBody,
    PasskeyLoginBody,
    PendingBody,
    PublicKeyOut,
    completed_out,
)
from app.api.raises import MFA_LOGIN
from app.core import api_logins
from app.core.mfa import factors


def _finish(method: str, value, body) -> dict:
    issued, device_token = api_logins.finish_mfa_login(
        method=method, value=value, mfa_token=body.mfa_token, user_id=body.user_id,
        dialect=dialect.id, client=client_info(), remember_device=body.remember_device)
    return completed_out(issued, device_token)


@dialect.route("/auth/login/mfa", "POST", summary="Complete login with TOTP code",
               request=MfaCodeBody, limit="mfa_login",
               raises=MFA_LOGIN)
def login_mfa(body: MfaCodeBody):
    return _finish(factors.TOTP, body.code, body)


@dialect.route("/auth/login/mfa/backup", "POST", summary="Login using a backup code",
               request=MfaCodeBody, limit="mfa_login",
               raises=MFA_LOGIN)
def login_mfa_backup(body: MfaCodeBody):
    return _finish(factors.RECOVERY_CODE, body.code, body)


@dialect.route("/auth/login/mfa/email/send", "POST", summary="Send MFA code to user's email",
               request=PendingBody, response=MessageOut, limit="mfa_send",
               raises=MFA_LOGIN)
def login_mfa_email_send(body: PendingBody):
    api_logins.send_mfa_email_code(mfa_token=body.mfa_token, user_id=body.user_id,
                                   dialect=dialect.id, client=client_info())
    return {"message": "A sign-in code is on its way to your email address."}


@dialect.route("/auth/login/mfa/email", "POST", summary="Complete login with email MFA code",
               request=MfaCodeBody, limit="mfa_login",
               raises=MFA_LOGIN)
def login_mfa_email(body: MfaCodeBody):
    return _finish(factors.EMAIL, body.code, body)


@dialect.route("/auth/login/mfa/webauthn/begin", "POST", summary="Begin WebAuthn login",
               request=PendingBody, response=PublicKeyOut, limit="mfa_login",
               raises=MFA_LOGIN)
def login_mfa_webauthn_begin(body: PendingBody):
    return api_logins.mfa_passkey_options(mfa_token=body.mfa_token, user_id=body.user_id,
                                          dialect=dialect.id)


@dialect.route("/auth/login/mfa/webauthn/finish", "POST", summary="Complete WebAuthn login",
               request=PasskeyLoginBody, limit="mfa_login",
               raises=MFA_LOGIN)
def login_mfa_webauthn_finish(body: PasskeyLoginBody):
    return _finish(factors.WEBAUTHN, body.sent_credential(), body)
