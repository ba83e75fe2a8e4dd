"""cosmicsync (api-docs 000): bare objects, mounted at / as documented (/auth, /users)."""

from __future__ import annotations

from app.api.dialect import Dialect


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"error": code, "message": message}
    if field:
        body["field"] = field
    return body


dialect = Dialect(id="cosmicsync", title="CosmicSyncCore API", default_mount="/",
                  error_body=error_body)
