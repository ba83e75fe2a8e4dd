"""modernauth's dialect object: bare objects, `{"error", "message"}` on failure, its limits.

The view modules of this package register their routes on `dialect`; this module imports
none of them.
"""

from __future__ import annotations

from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect, bare_error_body

dialect = Dialect(
    id="modernauth", title="ModernAuth API", default_mount="/v1", error_body=bare_error_body,
    # The document's table; the endpoints it leaves out get limits of the same order. The
    # MFA login limits count per IP, on top of each pending login's own attempt budget.
    rate_limits={**DEFAULT_AUTH_LIMITS, "magic_link": "3 per hour",
                 "forgot_password": "5 per hour", "verify": "10 per 15 minutes",
                 "send_verification": "5 per hour",
                 "mfa_login": "20 per 15 minutes", "mfa_send": "5 per 15 minutes"},
    # A wrong code tells how many tries the pending login has left.
    error_details={"attempts_left": "attempts_left"},
)
