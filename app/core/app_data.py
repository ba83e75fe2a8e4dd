"""Applications and the small JSON values they keep per user (cosmicsync's custom user data).

A call names its application, or falls back to the one the caller's login named; a caller
whose login named none reads and writes the user's own space (application_id None).

An application is a registered OAuth client, named by its client_id (clients.application).
A value is any JSON but null, at most VALUE_MAX_BYTES once serialized and nested at most
VALUE_MAX_DEPTH deep, kept under a short key per user and application; a user holds at most
KEYS_MAX keys per application, so one account cannot grow the table without bound.
"""

from __future__ import annotations

import json
import re
import uuid

from sqlalchemy import func, select

from app.core import accounts, audit, clients, upsert
from app.core.context import ClientInfo
from app.core.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import User, UserAppData
from app.models.types import utcnow

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
VALUE_MAX_BYTES = 16 * 1024
VALUE_MAX_DEPTH = 32
KEYS_MAX = 100
APP_SIGNUP = "signup.application"


def register_user(*, application_id: object, email: object, password: object,
                  username: object = None, client: ClientInfo | None = None) -> User:
    """Create an account for an application: the application must exist; the signup's
    audit event records which one it was."""
    app = clients.application(application_id)
    user = accounts.create_user(email=email, password=password, username=username,
                                client=client)
    audit.record(APP_SIGNUP, user_id=user.id, client=client, application_id=app.client_id)
    return user


def _key(key: object) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput("key must be 1-64 letters, digits, dots, dashes or underscores.",
                           field="key")
    return key


def _depth(value: object) -> int:
    # Iterative, so a hostile nesting cannot exhaust the stack.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > VALUE_MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_value(value: object) -> None:
    if value is None:
        raise InvalidInput("value is required and may not be null.", field="value")
    if _depth(value) > VALUE_MAX_DEPTH:
        raise InvalidInput(f"value may be nested at most {VALUE_MAX_DEPTH} levels deep.",
                           field="value")
    try:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                             allow_nan=False).encode()
    except (TypeError, ValueError):
        raise InvalidInput("value must be plain JSON (no NaN or Infinity).",
                           field="value") from None
    if len(encoded) > VALUE_MAX_BYTES:
        raise InvalidInput(f"value may be at most {VALUE_MAX_BYTES} bytes as JSON.",
                           field="value")


def _space(application_id: object, default: str | None) -> str | None:
    """The application whose data a call reads or writes: the one named, else `default`
    (the application the caller's login named); None is the user's own space."""
    if application_id is None:
        application_id = default
        if application_id is None:
            return None
    return clients.application(application_id).client_id


def _in_space(application_id: str | None):
    return (UserAppData.application_id.is_(None) if application_id is None
            else UserAppData.application_id == application_id)


def _row(user_id: uuid.UUID, application_id: str | None, key: str) -> UserAppData | None:
    return db.session.scalar(select(UserAppData).where(
        UserAppData.user_id == user_id, _in_space(application_id), UserAppData.key == key))


def set_value(user: User, application_id: object, key: object, value: object, *,
              default: str | None = None) -> None:
    """Store (or replace) one value of the user's data for an application (see _space for
    application_id and default)."""
    space = _space(application_id, default)
    key = _key(key)
    _check_value(value)
    if _row(user.id, space, key) is None:
        count = db.session.scalar(select(func.count()).select_from(UserAppData).where(
            UserAppData.user_id == user.id, _in_space(space)))
        if count >= KEYS_MAX:
            raise InvalidInput(f"At most {KEYS_MAX} keys may be stored per application.",
                               field="key")
    now = utcnow()
    # One statement: a concurrent first write of the same key cannot fail on the unique
    # index; the later write's value stands. The user's own space has its own partial
    # index (application_id IS NULL), which is the conflict target there.
    upsert.insert_or_update(
        UserAppData,
        {"id": uuid.uuid4(), "user_id": user.id, "application_id": space, "key": key,
         "value": value, "updated_at": now},
        conflict=("user_id", "key") if space is None else ("user_id", "application_id", "key"),
        where=UserAppData.application_id.is_(None) if space is None else None,
        update=("value", "updated_at"))


def get_value(user: User, application_id: object, key: object, *,
              default: str | None = None) -> object:
    """The stored value; NotFound (naming key) when there is none (see _space for
    application_id and default)."""
    space = _space(application_id, default)
    row = _row(user.id, space, _key(key))
    if row is None:
        raise NotFound("No data is stored under this key.", field="key")
    return row.value
