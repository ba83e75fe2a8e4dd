"""eventchain's dialect object: the `{"success": false, "error": {...}}` envelope, the
document's AUTH_00x codes, its field spellings and its limits.

The view modules of this package register their routes on `dialect`; this module imports
none of them.
"""

from __future__ import annotations

from app.api.dialect import Dialect
from app.core.errors import OneTimeTokenExpired, OneTimeTokenInvalid

# The document's own codes (its "Common Error Codes" list). Codes absent here keep
# Tessera's own (`validation`, `forbidden`, `wrong_password`, `rate_limited`, ...).
AUTH_CODES = {
    "invalid_credentials": (401, "AUTH_001"),
    "account_not_verified": (403, "AUTH_002"),
    "token_expired": (401, "AUTH_003"),
    "invalid_token": (401, "AUTH_004"),
    "unauthenticated": (401, "AUTH_004"),
    # A refresh token that is unknown, spent, revoked or expired is an invalid token here.
    "invalid_grant": (401, "AUTH_004"),
    "account_locked": (403, "AUTH_005"),
    "account_inactive": (403, "AUTH_005"),
    "weak_password": (400, "AUTH_006"),
    "email_taken": (409, "AUTH_007"),
    # A verification or reset link: the document's token codes, with a 400 (the request
    # is refused, not the caller's authentication).
    OneTimeTokenExpired: (400, "AUTH_003"),
    OneTimeTokenInvalid: (400, "AUTH_004"),
    # The document has no second-factor step and no code for one: a user with MFA is
    # refused with Tessera's own code rather than let in on a password alone.
    "mfa_required": (403, "mfa_required"),
}

# Core names fields in its own spelling; the envelope uses the document's.
FIELD_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "current_password": "currentPassword",
    "new_password": "newPassword",
    "refresh_token": "refreshToken",
}


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    details = {"field": FIELD_NAMES.get(field, field)} if field else {}
    return {"success": False, "error": {"code": code, "message": message,
                                        "details": details}}


dialect = Dialect(
    id="eventchain", title="EventChain Authentication API", default_mount="/eventchain/v1/auth",
    error_body=error_body, errors=AUTH_CODES,
    rate_limits={"login": "5 per minute", "register": "3 per hour",
                 "password_reset": "3 per hour", "verify": "5 per hour"},
)
