"""Applications and the small JSON values they keep per user (cosmicsync's custom user data).

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
from sqlalchemy.exc import IntegrityError

from app.core import accounts, audit, clients
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


def _row(user_id: uuid.UUID, application_id: str, key: str) -> UserAppData | None:
    return db.session.scalar(select(UserAppData).where(
        UserAppData.user_id == user_id, UserAppData.application_id == application_id,
        UserAppData.key == key))


def set_value(user: User, application_id: object, key: object, value: object) -> UserAppData:
    """Store (or replace) one value of the user's data for an application."""
    app = clients.application(application_id)
    key = _key(key)
    _check_value(value)
    row = _row(user.id, app.client_id, key)
    if row is not None:
        row.value = value
        row.updated_at = utcnow()
        return row
    count = db.session.scalar(select(func.count()).select_from(UserAppData).where(
        UserAppData.user_id == user.id, UserAppData.application_id == app.client_id))
    if count >= KEYS_MAX:
        raise InvalidInput(f"At most {KEYS_MAX} keys may be stored per application.",
                              field="key")
    row = UserAppData(id=uuid.uuid4(), user_id=user.id, application_id=app.client_id,
                      key=key, value=value, updated_at=utcnow())
    try:
        # A savepoint: a concurrent first write of the same key loses cleanly, and then
        # this write replaces the value it stored.
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        row = _row(user.id, app.client_id, key)
        row.value = value
        row.updated_at = utcnow()
    return row


def get_value(user: User, application_id: object, key: object) -> object:
    """The stored value; NotFound (naming key) when there is none."""
    app = clients.application(application_id)
    row = _row(user.id, app.client_id, _key(key))
    if row is None:
        raise NotFound("No data is stored under this key.", field="key")
    return row.value
