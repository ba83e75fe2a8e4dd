"""modernauth's passkeys (WebAuthn credentials) as a second factor: registering one,
listing them, deleting one."""

from __future__ import annotations

from flask import request

from app.api import mfa as api_mfa
from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.factor_changes import reauthenticate, with_others_ended
from app.api.dialects.modernauth.shapes import (
    DeleteCredentialBody,
    MessageOut,
    PasskeyRegisterBody,
    PublicKeyOut,
    ReauthBody,
    passkey_out,
)
from app.api.raises import FACTOR_CHANGE, OWN_ITEM
from app.core import api_logins
from app.core.errors import InvalidInput
from app.core.mfa import passkeys


@dialect.route("/auth/mfa/webauthn/register/begin", "POST",
               summary="Begin WebAuthn credential registration", request=ReauthBody,
               body_required=False, response=PublicKeyOut, auth=True,
               raises=FACTOR_CHANGE)
def webauthn_register_begin(caller: api_logins.Principal, body: ReauthBody):
    reauthenticate(caller, body)
    return passkeys.registration_options(caller.user, session=caller.session)


@dialect.route("/auth/mfa/webauthn/register/finish", "POST",
               summary="Complete WebAuthn credential registration",
               request=PasskeyRegisterBody, status=201, auth=True,
               raises=FACTOR_CHANGE)
def webauthn_register_finish(caller: api_logins.Principal, body: PasskeyRegisterBody):
    row, codes = api_mfa.register_passkey(caller, body.sent_credential(), name=body.name,
                                          client=client_info())
    return {"credential": passkey_out(row), "backup_codes": codes}, 201


@dialect.route("/auth/mfa/webauthn/credentials", "GET",
               summary="List registered WebAuthn credentials", auth=True)
def webauthn_credentials(caller: api_logins.Principal):
    return {"credentials": [passkey_out(row)
                            for row in passkeys.list_credentials(caller.user)]}


@dialect.route("/auth/mfa/webauthn/credentials", "DELETE",
               summary="Delete a WebAuthn credential (credential_id in the body or ?id=)",
               request=DeleteCredentialBody, body_required=False, response=MessageOut,
               auth=True,
               raises=(*OWN_ITEM, *FACTOR_CHANGE))
def webauthn_credential_delete(caller: api_logins.Principal, body: DeleteCredentialBody):
    credential_id = body.credential_id or body.id or request.args.get("id")
    if not credential_id:
        raise InvalidInput("Name the passkey to delete.", field="credential_id")
    reauthenticate(caller, body)
    passkeys.delete(caller.user, credential_id, session=caller.session, client=client_info())
    return with_others_ended({"message": "Passkey deleted."}, body, caller)
