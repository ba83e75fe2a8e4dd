"""apiauth (api-docs 001): `{"status": "success", ...}`; failures `{"status": "fail"|"error"}`."""

from __future__ import annotations

from app.api.dialect import Dialect


def error_body(status: int, code: str, message: str, field: str | None) -> dict:
    body = {"status": "error" if status >= 500 else "fail", "message": message, "code": code}
    if field:
        body["field"] = field
    return body


dialect = Dialect(id="apiauth", title="User Authentication API", default_mount="/api/auth",
                  error_body=error_body)
