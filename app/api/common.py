"""What every dialect shares: reading a JSON body against a schema, and the bearer token.

Validation errors name the offending field in the document's own spelling (the schema's
alias), so each dialect can put it in its envelope.
"""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as SchemaError
from werkzeug.exceptions import UnsupportedMediaType

from app.core import api_logins
from app.core.errors import InvalidInput
from app.http import json_body
from app.http.client import client_info

MAX_BODY_BYTES = 64 * 1024
# A body of only JSON's own white space (RFC 8259) counts as no body; any other byte, such
# as a form feed or vertical tab, makes it a body that must parse.
JSON_WHITESPACE = b" \t\n\r"
Model = TypeVar("Model", bound=BaseModel)


class Body(BaseModel):
    """Base of request schemas: strict types, unknown fields refused, sizes bounded."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False,
                              str_max_length=4096)


class Reply(BaseModel):
    """Base of response schemas (documentation only; views return plain dicts)."""

    model_config = ConfigDict(extra="allow")


def refuse_non_json_body() -> None:
    """A body must be declared JSON (`application/json` or `application/*+json`): 415
    otherwise. A JSON body sent as text/plain, a form or with no Content-Type is what a
    cross-site page can send without asking (a "simple request"), so it is never read. A
    request without a body is not affected."""
    if (request.content_length or request.get_data(cache=True)) and not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).")


def read_json(model: type[Model], *, optional: bool = False) -> Model:
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput("The request body is too large.", field="body")
    if not raw.strip(JSON_WHITESPACE):
        if optional:
            return model.model_validate({})
        raise InvalidInput("A JSON body is required.", field="body")
    try:
        data = json_body.parsed()
    except ValueError:
        raise InvalidInput("The request body is not valid JSON.", field="body") from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    try:
        return model.model_validate(data)
    except SchemaError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        messages = {"missing": "This field is required.",
                    "extra_forbidden": "This field is not allowed."}
        message = messages.get(first["type"], first["msg"])
        raise InvalidInput(f"{field}: {message}", field=field) from None


def read_query(model: type[Model]) -> Model:
    """Validate the query string like a body: a 400 naming the first bad parameter."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except SchemaError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "query"
        message = "This parameter is required." if first["type"] == "missing" else first["msg"]
        raise InvalidInput(f"{field}: {message}", field=field) from None


def email_in_body() -> str:
    """Rate-limit key: the email address in the JSON body (lower-cased), so a limit "per
    email" counts requests for one address from anywhere; the client's IP without one."""
    try:
        data = json_body.parsed()
    except ValueError:
        data = None
    email = data.get("email") if isinstance(data, dict) else None
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:254]
    return "ip:" + (request.remote_addr or "")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal() -> api_logins.Principal:
    """The caller, from `Authorization: Bearer`; raises Unauthenticated / InvalidToken."""
    return api_logins.authenticate(bearer_token())


__all__ = ["Body", "Reply", "bearer_token", "client_info", "email_in_body", "principal",
           "read_json", "read_query", "refuse_non_json_body"]
