"""Encrypting small secrets at rest that must be read back (AES-256-GCM).

Each use names its own key purpose, from which a key is derived off the secret key
(keys.derived_secret), and binds the ciphertext to its row through the associated data,
so a blob copied onto another row fails to decrypt. The stored form is nonce || ciphertext.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.keys import derived_secret

NONCE_BYTES = 12


def seal(purpose: str, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt under the key of `purpose` (e.g. "mfa-totp-secret:v1"), bound to `aad`."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(derived_secret(purpose)).encrypt(nonce, plaintext, aad)


def unseal(purpose: str, blob: bytes, *, aad: bytes) -> bytes:
    """Decrypt what seal() made; raises cryptography's InvalidTag if key, aad or blob differ."""
    return AESGCM(derived_secret(purpose)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
