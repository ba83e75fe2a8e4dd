"""A software WebAuthn authenticator for tests, built from the specification.

It answers registration options with a "none" attestation (authenticator data with the
attested credential data, an ES256 key as a COSE_Key) and request options with an ES256
assertion, in the JSON shape of the browser's credential.toJSON(). No private key ever
leaves it; the server side verifies exactly what a browser would send.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_BE = 0x08  # backup eligible (a synced passkey)
FLAG_BS = 0x10  # backed up
FLAG_AT = 0x40  # attested credential data included
AAGUID = bytes(16)


class SoftwareAuthenticator:
    def __init__(self, origin: str = "http://localhost", *, user_verified: bool = True,
                 synced: bool = False, counter: bool = True) -> None:
        self.origin = origin
        self.user_verified = user_verified
        self.synced = synced
        self.counter = counter
        self.sign_count = 0
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.user_handle: bytes | None = None
        self.rp_id: str | None = None

    # --- pieces ---------------------------------------------------------------------------

    def _flags(self, *extra: int) -> int:
        flags = FLAG_UP | (FLAG_UV if self.user_verified else 0)
        if self.synced:
            flags |= FLAG_BE | FLAG_BS
        for flag in extra:
            flags |= flag
        return flags

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def _next_count(self) -> int:
        if self.counter:
            self.sign_count += 1
        return self.sign_count

    # --- ceremonies -----------------------------------------------------------------------

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """navigator.credentials.create(), then credential.toJSON()."""
        public_key = options["publicKey"]
        self.rp_id = public_key["rp"]["id"]
        self.user_handle = base64url_to_bytes(public_key["user"]["id"])
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest()
                     + bytes([self._flags(FLAG_AT)]) + struct.pack(">I", self.sign_count)
                     + AAGUID + struct.pack(">H", len(self.credential_id))
                     + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(attestation),
                         "transports": ["internal"]},
        }

    def get(self, options: dict, *, origin: str | None = None,
            sign_count: int | None = None, ignore_allow_list: bool = False) -> dict:
        """navigator.credentials.get(), then credential.toJSON(). A browser only offers an
        allowed credential; ignore_allow_list plays a client that sends another anyway."""
        public_key = options["publicKey"]
        allowed = [item["id"] for item in public_key.get("allowCredentials") or []]
        if allowed and not ignore_allow_list:
            assert bytes_to_base64url(self.credential_id) in allowed
        client_data = self._client_data("webauthn.get", public_key["challenge"], origin)
        count = self._next_count() if sign_count is None else sign_count
        auth_data = (hashlib.sha256(public_key["rpId"].encode()).digest()
                     + bytes([self._flags()]) + struct.pack(">I", count))
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(auth_data),
                         "signature": bytes_to_base64url(signature),
                         "userHandle": bytes_to_base64url(self.user_handle or b"")},
        }
