"""Field types for request shapes that carry core's input rules into the OpenAPI documents.

Core validates (one place, shared with the pages); these types only describe its rules in
the JSON schema, from the same constants, so a client generated from a document sends
what the server accepts. Validation itself is unchanged: a field typed `Email` is a plain
`str` to pydantic, and core's answer to a bad one is the documented 400.

The password policy depends on settings, so its lengths are filled in when a document is
generated (`apply_settings`), from the running app's configuration.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import WithJsonSchema

from app.core import accounts, app_data

# Body's str_max_length: no string in a request body may be longer.
TEXT_MAX_LENGTH = 4096
# Marks a schema whose lengths are the password policy (see apply_settings).
PASSWORD_POLICY = "x-tessera-password-policy"
# Not blank: at least one character that is not white space (core strips, then checks).
NOT_BLANK = r"\S"


def _text(**rules) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "maxLength": TEXT_MAX_LENGTH} | rules)


# An address core accepts (accounts.normalize_email).
Email = Annotated[str, _text(format="email", minLength=1, maxLength=accounts.EMAIL_MAX_LENGTH,
                             pattern=NOT_BLANK)]
# A password being set: the policy's lengths (PasswordPolicy.check_policy).
NewPassword = Annotated[str, _text(minLength=1, **{PASSWORD_POLICY: True})]
# A password being checked (login, the current password): anything but empty.
Password = Annotated[str, _text(minLength=1)]
# A token, code or id that must be there: not blank.
Required = Annotated[str, _text(minLength=1, pattern=NOT_BLANK)]
# A username (accounts.normalize_username lower-cases before matching).
Username = Annotated[str, _text(pattern=accounts.USERNAME_PATTERN.pattern)]
# A first or last name (accounts.NAME_MAX).
Name = Annotated[str, _text(maxLength=accounts.NAME_MAX)]
# A phone number (accounts.clean_phone).
Phone = Annotated[str, _text(pattern=accounts.PHONE_PATTERN.pattern)]
# A key of custom data (app_data.KEY_PATTERN).
DataKey = Annotated[str, _text(pattern=app_data.KEY_PATTERN.pattern)]


def apply_settings(schema: object, config) -> None:
    """Fill the running app's password policy into every schema marked with it."""
    if isinstance(schema, dict):
        if schema.pop(PASSWORD_POLICY, False):
            schema["minLength"] = config["PASSWORD_MIN_LENGTH"]
            schema["maxLength"] = config["PASSWORD_MAX_LENGTH"]
        for value in schema.values():
            apply_settings(value, config)
    elif isinstance(schema, list):
        for value in schema:
            apply_settings(value, config)


__all__ = ["DataKey", "Email", "Name", "NewPassword", "Password", "Phone", "Required",
           "TEXT_MAX_LENGTH", "Username", "apply_settings"]
