"""Passkeys and security keys (WebAuthn Level 3, through py_webauthn).

Two ceremonies, each a pair of calls: *options* (the JSON a browser hands to
PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON, wrapped as
{"publicKey": ...}) and *verify* (the browser's credential.toJSON(), as a dict or a JSON
string). Challenges are single-use rows (webauthn_challenges) valid
TESSERA_WEBAUTHN_CHALLENGE_TTL seconds. The relying party ID is the host of TESSERA_ISSUER
unless TESSERA_WEBAUTHN_RP_ID says otherwise; accepted origins are the issuer's origin
unless TESSERA_WEBAUTHN_ORIGINS lists them.

A passkey serves as a second factor (user known, user verification preferred) or alone, as
a passwordless login with a discoverable credential (user verification required, since the
passkey then stands for both factors). Sign counters must move forward; a counter that goes
back (a cloned authenticator, or a replayed assertion) is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.core import audit, json_input
from app.core.context import ClientInfo
from app.core.errors import InvalidInput, MfaNotEnabled, NotFound, PasskeyInvalid
from app.core.mfa import amr, recent_auth, webauthn_challenges
from app.core.services import setting
from app.extensions import db
from app.models import AuthSession, User, WebAuthnCredential
from app.models.types import utcnow

NAME_MAX_LENGTH = 100
_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}
# py_webauthn lets some malformed credentials out as plain Python errors rather than its
# own (a userHandle that is not base64url: binascii.Error; an attested COSE key without
# kty: KeyError). To us they are a credential that does not verify, like any other.
_DOES_NOT_VERIFY = (WebAuthnException, ValueError, TypeError, KeyError, IndexError)


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: list[str]


@dataclass(frozen=True)
class VerifiedPasskey:
    """A passkey assertion that verified: whose it is, which one, and the amr it earns."""

    user: User
    credential: WebAuthnCredential
    user_verified: bool
    amr: list[str]


def relying_party() -> RelyingParty:
    issuer = urlsplit(setting("ISSUER"))
    origins = [origin.strip().rstrip("/") for origin in setting("WEBAUTHN_ORIGINS").split(",")
               if origin.strip()]
    return RelyingParty(id=setting("WEBAUTHN_RP_ID") or issuer.hostname or "localhost",
                        name=setting("WEBAUTHN_RP_NAME"),
                        origins=origins or [f"{issuer.scheme}://{issuer.netloc}"])


def credential_from_body(body: object) -> dict:
    """The credential of a finish request: the body itself, or its "credential" member
    (either may be its JSON text). Unwrapped once only, so no nesting recurses."""
    body = _parsed(body)
    if isinstance(body, dict) and isinstance(body.get("credential"), dict | str):
        body = _parsed(body["credential"])
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise InvalidInput("A WebAuthn credential (credential.toJSON()) is required.",
                           field="credential")
    return body


def _parsed(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return json_input.loads(value)
    except ValueError:
        raise InvalidInput("The credential is not valid JSON.", field="credential") from None


def _descriptor(row: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in row.transports or [] if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=row.credential_id, transports=transports or None)


def _wrap(options) -> dict:
    return {"publicKey": json.loads(options_to_json(options))}


def _timeout_ms() -> int:
    return setting("WEBAUTHN_CHALLENGE_TTL") * 1000


def _challenge_of(credential: dict) -> bytes:
    try:
        client_data = json_input.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        return base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise PasskeyInvalid("The credential is malformed.", field="credential") from None


def _raw_id(credential: dict) -> bytes:
    try:
        return base64url_to_bytes(credential.get("rawId") or credential["id"])
    except (KeyError, TypeError, ValueError):
        raise PasskeyInvalid("The credential is malformed.", field="credential") from None


# --- registration --------------------------------------------------------------------------

def registration_options(user: User, *, session: AuthSession | None) -> dict:
    """{"publicKey": creation options} for a new passkey of the user; a discoverable
    credential is preferred so it can sign in without a password. Raises
    ReauthenticationRequired unless the session is recent."""
    recent_auth.require(session, user)
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user.id.bytes, user_name=user.email,
        user_display_name=user.display_name,
        challenge=webauthn_challenges.create(webauthn_challenges.REGISTER, user),
        timeout=_timeout_ms(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[_descriptor(row) for row in list_credentials(user)])
    return _wrap(options)


def register(user: User, credential: object, *, session: AuthSession | None,
             name: object = None, client: ClientInfo | None = None) -> WebAuthnCredential:
    """Verify the browser's attestation and keep the new credential.

    Raises ReauthenticationRequired, InvalidInput (no credential, bad name),
    PasskeyChallengeInvalid (unknown, used or expired challenge), PasskeyInvalid (does not
    verify, or the credential is already registered).
    """
    recent_auth.require(session, user)
    credential = credential_from_body(credential)
    label = _clean_name(name) if name not in (None, "") else None
    webauthn_challenges.consume(_challenge_of(credential), webauthn_challenges.REGISTER, user)
    rp = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=_challenge_of(credential),
            expected_rp_id=rp.id, expected_origin=rp.origins)
    except _DOES_NOT_VERIFY as exc:
        audit.record(audit.MFA_FAILED, user_id=user.id, client=client, method="webauthn",
                     reason="registration_invalid")
        raise PasskeyInvalid(field="credential") from exc
    transports = credential["response"].get("transports")
    if not isinstance(transports, list):  # py_webauthn ignores a non-list too
        transports = []
    row = WebAuthnCredential(
        user_id=user.id, credential_id=verified.credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str) and t in _TRANSPORTS],
        name=label or _default_name(user), aaguid=verified.aaguid,
        device_type=verified.credential_device_type.value,
        backed_up=verified.credential_backed_up, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise PasskeyInvalid("This passkey is already registered.", field="credential") \
            from None
    audit.record(audit.MFA_PASSKEY_ADDED, user_id=user.id, client=client,
                 credential=str(row.id), device_type=row.device_type)
    return row


# --- authentication ------------------------------------------------------------------------

def authentication_options(user: User | None = None) -> dict:
    """{"publicKey": request options}. With a user: their credentials are allowed (second
    factor, re-authentication). Without: an empty allow list, so the browser offers its
    discoverable passkeys for this site (passwordless login). Raises MfaNotEnabled when a
    named user has no passkey."""
    rp = relying_party()
    if user is None:
        challenge = webauthn_challenges.create(webauthn_challenges.PASSWORDLESS, None)
        options = generate_authentication_options(
            rp_id=rp.id, challenge=challenge, timeout=_timeout_ms(),
            user_verification=UserVerificationRequirement.REQUIRED)
        return _wrap(options)
    rows = list_credentials(user)
    if not rows:
        raise MfaNotEnabled("No passkey is registered for this account.")
    options = generate_authentication_options(
        rp_id=rp.id, challenge=webauthn_challenges.create(webauthn_challenges.AUTHENTICATE, user),
        timeout=_timeout_ms(), allow_credentials=[_descriptor(row) for row in rows],
        user_verification=UserVerificationRequirement.PREFERRED)
    return _wrap(options)


def verify_authentication(credential: object, *, user: User | None = None,
                          client: ClientInfo | None = None) -> VerifiedPasskey:
    """Verify an assertion; with `user`, the passkey must be theirs (second factor), without,
    it names its user and must have verified them (passwordless).

    Raises InvalidInput (no credential), PasskeyChallengeInvalid, PasskeyInvalid
    (unknown credential, another user's, bad signature or origin, counter not moving
    forward, user not verified when passwordless). Every failure is audited.
    """
    credential = credential_from_body(credential)
    purpose = (webauthn_challenges.PASSWORDLESS if user is None
               else webauthn_challenges.AUTHENTICATE)
    challenge = _challenge_of(credential)
    row = db.session.scalar(select(WebAuthnCredential).where(
        WebAuthnCredential.credential_id == _raw_id(credential)))
    owner = db.session.get(User, row.user_id) if row is not None else None

    def refuse(reason: str, message: str | None = None):
        audit.record(audit.MFA_FAILED if user else audit.PASSKEY_LOGIN_FAILED,
                     user_id=(user or owner).id if (user or owner) else None, client=client,
                     method="webauthn", reason=reason)
        return PasskeyInvalid(message, field="credential")

    webauthn_challenges.consume(challenge, purpose, user)
    if row is None or owner is None or (user is not None and row.user_id != user.id):
        raise refuse("unknown_credential")
    if user is None and not _user_handle_matches(credential, owner):
        raise refuse("user_handle_mismatch")
    rp = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origins, credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=user is None)
    except _DOES_NOT_VERIFY as exc:
        raise refuse("assertion_invalid") from exc
    _advance_sign_count(row, verified.new_sign_count, refuse)
    row.last_used_at = utcnow()
    row.backed_up = verified.credential_backed_up
    return VerifiedPasskey(user=owner, credential=row, user_verified=verified.user_verified,
                           amr=[amr.passkey(row.device_type)])


def _user_handle_matches(credential: dict, owner: User) -> bool:
    handle = (credential.get("response") or {}).get("userHandle")
    if not handle:
        return True  # optional in an assertion; the credential id already names the owner
    try:
        return base64url_to_bytes(handle) == owner.id.bytes
    except (TypeError, ValueError):
        return False


def _advance_sign_count(row: WebAuthnCredential, new_count: int, refuse) -> None:
    # Authenticators without a counter always send 0; any other value must grow. The
    # conditional UPDATE means that of two concurrent uses of one assertion only one passes.
    moved = db.session.execute(
        update(WebAuthnCredential)
        .where(WebAuthnCredential.id == row.id,
               or_(WebAuthnCredential.sign_count < new_count,
                   (WebAuthnCredential.sign_count == 0) & (new_count == 0)))
        .values(sign_count=new_count).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise refuse("sign_count_regressed")
    db.session.expire(row, ["sign_count"])


# --- managing credentials ------------------------------------------------------------------

def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("Give the passkey a name.", field="name")
    name = " ".join(name.split())
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Names are at most {NAME_MAX_LENGTH} characters.", field="name")
    return name


def _default_name(user: User) -> str:
    return f"Passkey {len(list_credentials(user)) + 1}"


def list_credentials(user: User) -> list[WebAuthnCredential]:
    """The user's passkeys, oldest first (name, created_at, last_used_at, device_type...)."""
    return list(db.session.scalars(select(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user.id).order_by(WebAuthnCredential.created_at)))


def find_credential(user: User, credential_id: object) -> WebAuthnCredential:
    """One of the user's passkeys by its row id (uuid) or its base64url credential id;
    anyone else's, or none, is NotFound."""
    for row in list_credentials(user):
        if str(credential_id) in (str(row.id), bytes_to_base64url(row.credential_id)):
            return row
    raise NotFound("Passkey not found.", field="credential_id")


def rename(user: User, credential_id: object, name: object, *,
           client: ClientInfo | None = None) -> WebAuthnCredential:
    """Rename one of the user's passkeys. Raises NotFound, InvalidInput."""
    row = find_credential(user, credential_id)
    row.name = _clean_name(name)
    audit.record(audit.MFA_PASSKEY_RENAMED, user_id=user.id, client=client,
                 credential=str(row.id))
    return row


def delete(user: User, credential_id: object, *, session: AuthSession | None,
           client: ClientInfo | None = None) -> None:
    """Remove one of the user's passkeys. Raises ReauthenticationRequired, NotFound."""
    recent_auth.require(session, user)
    row = find_credential(user, credential_id)
    db.session.delete(row)
    db.session.flush()
    audit.record(audit.MFA_PASSKEY_REMOVED, user_id=user.id, client=client,
                 credential=str(row.id))


def delete_all(user: User) -> None:
    """Drop every passkey of the user (MFA reset by an administrator)."""
    for row in list_credentials(user):
        db.session.delete(row)
    db.session.flush()
