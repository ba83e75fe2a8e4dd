"""cosmicsync's dialect object: bare objects, `{"error", "message"}` on failure, mounted at /
as documented, and its limits.

The view modules of this package register their routes on `dialect`; this module imports
none of them.
"""

from __future__ import annotations

from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect, bare_error_body

dialect = Dialect(
    id="cosmicsync", title="CosmicSyncCore API", default_mount="/", error_body=bare_error_body,
    rate_limits={**DEFAULT_AUTH_LIMITS, "mfa_login": "20 per 15 minutes"},
    # A wrong code tells how many tries the pending login has left.
    error_details={"attempts_left": "attempts_left"},
)
