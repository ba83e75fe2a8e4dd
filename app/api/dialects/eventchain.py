"""eventchain (api-docs 003): `{"success": true, "data"}`; failures carry AUTH_00x codes."""

from __future__ import annotations

from app.api.dialect import Dialect

# The document's own codes (its "Common Error Codes" list).
AUTH_CODES = {
    "invalid_credentials": (401, "AUTH_001"),
    "account_not_verified": (403, "AUTH_002"),
    "token_expired": (401, "AUTH_003"),
    "invalid_token": (401, "AUTH_004"),
    "unauthenticated": (401, "AUTH_004"),
    "account_locked": (403, "AUTH_005"),
    "account_inactive": (403, "AUTH_005"),
    "weak_password": (400, "AUTH_006"),
    "email_taken": (409, "AUTH_007"),
}


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    return {"success": False, "error": {"code": code, "message": message,
                                        "details": {"field": field} if field else {}}}


dialect = Dialect(
    id="eventchain", title="EventChain Authentication API", default_mount="/eventchain/v1/auth",
    error_body=error_body, errors=AUTH_CODES,
    rate_limits={"login": "5 per minute", "register": "3 per hour"},
)
