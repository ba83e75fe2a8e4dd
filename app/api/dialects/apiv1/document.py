"""apiv1's dialect object: the `{"message", "error", "status"}` error envelope, in the
document's camelCase field names, its error table and its limits.

The view modules of this package register their routes on `dialect`; this module imports
none of them.
"""

from __future__ import annotations

from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect

# core's field name -> this document's
FIELD_NAMES = {
    "first_name": "firstName", "last_name": "lastName", "phone": "phoneNumber",
    "current_password": "currentPassword", "new_password": "newPassword",
    "refresh_token": "refreshToken", "user_id": "userId",
    "mfa_token": "mfaToken", "remember_device": "rememberDevice",
    "device_token": "deviceToken",
}


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"message": message, "error": code, "status": status}
    if field:
        body["field"] = FIELD_NAMES.get(field, field)
    return body


dialect = Dialect(
    id="apiv1", title="Authentication API v1", default_mount="/api/v1/auth",
    error_body=error_body,
    # A refresh token that is unknown, spent or revoked is an authentication failure here.
    errors={"invalid_grant": (401, "invalid_grant")},
    rate_limits={**DEFAULT_AUTH_LIMITS, "password": "10 per 15 minutes",
                 "mail": "5 per hour", "code": "10 per 15 minutes",
                 "mfa_login": "20 per 15 minutes"},
    # A wrong code tells how many tries the pending login has left.
    error_details={"attempts_left": "attemptsLeft"},
)
