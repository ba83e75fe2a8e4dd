"""apiv1 (api-docs 002): success `{"message", "data", "status"}`; errors add `error`."""

from __future__ import annotations

from app.api.dialect import Dialect


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"message": message, "error": code, "status": status}
    if field:
        body["field"] = field
    return body


dialect = Dialect(id="apiv1", title="Authentication API v1", default_mount="/api/v1/auth",
                  error_body=error_body)
