"""Accounts: creating users, checking passwords, editing profiles."""

from __future__ import annotations

import re
import uuid

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit, rbac, sessions, tokens
from app.core.context import ClientInfo
from app.core.errors import (
    AccountInactive,
    AccountLocked,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    UsernameTaken,
    WrongPassword,
)
from app.core.services import services, setting
from app.extensions import db
from app.models import User
from app.models.types import utcnow

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")
NAME_MAX = 100
# RFC 5321's limit on a forward path, less the angle brackets.
EMAIL_MAX_LENGTH = 254
# A label appended to a special-use domain so the validator's other checks still run on it
# (it refuses those domains outright and offers a switch for `.test` alone).
NEUTRAL_SUFFIX = ".example"


def normalize_email(raw: object, *, field: str = "email") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("Email is required.", field=field)
    if len(raw) > EMAIL_MAX_LENGTH:
        raise InvalidInput("Email is too long.", field=field)
    address = raw.strip()
    suffix = NEUTRAL_SUFFIX if _special_use_allowed() and _at_special_use_domain(address) else ""
    try:
        result = validate_email(address + suffix, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput("Enter a valid email address.", field=field) from None
    return result.normalized.lower().removesuffix(suffix)


def _special_use_allowed() -> bool:
    """Addresses at special-use domains (a@example.test, a@host.localhost), which no mail
    reaches on the internet, are handy for local accounts: accepted in development, and in
    production only when TESSERA_EMAIL_ALLOW_SPECIAL_USE_DOMAINS says so."""
    return setting("ENV") == "development" or bool(setting("EMAIL_ALLOW_SPECIAL_USE_DOMAINS"))


def _at_special_use_domain(address: str) -> bool:
    domain = address.rpartition("@")[2].strip().rstrip(".").lower()
    return any(domain == name or domain.endswith("." + name)
               for name in SPECIAL_USE_DOMAIN_NAMES)


def normalize_username(raw: object, *, field: str = "username") -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or not USERNAME_PATTERN.match(raw.strip().lower()):
        raise InvalidInput(
            "Username must be 3-32 letters, digits, dots, dashes or underscores.", field=field
        )
    return raw.strip().lower()


def _clean_name(raw: object, field: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput("Must be text.", field=field)
    value = raw.strip()
    if len(value) > NAME_MAX:
        raise InvalidInput(f"Must be at most {NAME_MAX} characters.", field=field)
    return value


def clean_phone(raw: object, field: str = "phone") -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or not PHONE_PATTERN.match(raw.strip()):
        raise InvalidInput("Enter a valid phone number.", field=field)
    return raw.strip()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(user_id: uuid.UUID | str) -> User | None:
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None
    return db.session.get(User, key)


def _personal_words(email: str, username: str | None) -> tuple[str | None, ...]:
    return (email.split("@", 1)[0], username)


def create_user(*, email: object, password: object, username: object = None,
                first_name: object = None, last_name: object = None, phone: object = None,
                email_verified: bool = False, roles: tuple[str, ...] = (),
                client: ClientInfo | None = None) -> User:
    email = normalize_email(email)
    username = normalize_username(username)
    if not isinstance(password, str):
        raise InvalidInput("Password is required.", field="password")
    services().passwords.check_policy(password, personal=_personal_words(email, username))
    user = User(
        email=email,
        username=username,
        first_name=_clean_name(first_name, "first_name"),
        last_name=_clean_name(last_name, "last_name"),
        phone=clean_phone(phone),
        email_verified=email_verified,
    )
    _assert_unique(email=email, username=username)
    user.password_hash = services().passwords.hash(password)
    user.password_changed_at = utcnow()
    _write_unique(lambda: db.session.add(user), email=email, username=username)
    audit.record(audit.SIGNUP, user_id=user.id, client=client)
    for role in roles:
        rbac.assign_role(user, role, client=client)
    # The verification mail, through a hook (app.core.wiring): the mail flows import this
    # module, so it cannot import them.
    for hook in services().on_signup:
        hook(user, client=client)
    return user


def create_passwordless_user(email: object, *, client: ClientInfo | None = None) -> User:
    """An account with no password (a sign-in link registered it); it signs in by link
    until its owner sets a password through password reset."""
    email = normalize_email(email)
    _assert_unique(email=email)
    user = User(email=email, username=None, first_name="", last_name="", phone=None,
                email_verified=False, password_hash=None)
    _write_unique(lambda: db.session.add(user), email=email, username=None)
    audit.record(audit.SIGNUP, user_id=user.id, client=client, method="magic_link")
    return user


def _assert_unique(*, email: str | None = None, username: str | None = None,
                   exclude: uuid.UUID | None = None) -> None:
    def taken(column, value) -> bool:
        query = select(func.count()).select_from(User).where(column == value)
        if exclude is not None:
            query = query.where(User.id != exclude)
        return bool(db.session.scalar(query))

    if email and taken(User.email, email):
        raise EmailTaken(field="email")
    if username and taken(User.username, username):
        raise UsernameTaken(field="username")


def _write_unique(apply, *, email: str | None, username: str | None) -> None:
    """Apply a write inside a savepoint, so a concurrent duplicate is a clean 409, not a 500.

    The checks above catch the common case; this catches the race between two requests
    that both passed them. The write must happen inside the savepoint: opening it
    flushes whatever is already pending.
    """
    try:
        with db.session.begin_nested():
            apply()
            db.session.flush()
    except IntegrityError:
        _assert_unique(email=email, username=username)
        raise (EmailTaken(field="email") if email else UsernameTaken(field="username")) from None


def authenticate(email: object, password: object, *, client: ClientInfo) -> User:
    """Check a password login; count the attempt and audit its outcome either way.

    An unknown email and a wrong password both cost one argon2 verification and answer
    with the same InvalidCredentials, so neither message nor timing tells whether an
    address has an account. Only the right password reveals a locked or deactivated one.
    """
    if not isinstance(email, str) or not email.strip():
        raise InvalidInput("Email is required.", field="email")
    if not isinstance(password, str) or not password:
        raise InvalidInput("Password is required.", field="password")
    email_key = email.strip().lower()[:EMAIL_MAX_LENGTH]
    throttle = services().throttle
    account_limit = setting("LOGIN_ACCOUNT_LIMIT")
    for limit, key in ((setting("LOGIN_IP_LIMIT"), ("ip", client.ip_address or "-")),
                       (account_limit, ("account", email_key))):
        retry_after = throttle.consume(limit, "login", *key)
        if retry_after is not None:
            audit.record(audit.LOGIN_FAILED, client=client, reason="throttled")
            raise RateLimited(retry_after=retry_after)

    user = find_by_email(email_key)
    passwords = services().passwords
    password_ok = passwords.verify(user.password_hash if user else None,
                                   password[: setting("PASSWORD_MAX_LENGTH")])
    if user is None or not password_ok:
        audit.record(audit.LOGIN_FAILED, user_id=user.id if user else None, client=client,
                     reason="invalid_credentials")
        raise InvalidCredentials()
    if user.is_locked:
        audit.record(audit.LOGIN_FAILED, user_id=user.id, client=client, reason="locked")
        raise AccountLocked()
    if not user.is_active:
        audit.record(audit.LOGIN_FAILED, user_id=user.id, client=client, reason="inactive")
        raise AccountInactive()

    throttle.reset(account_limit, "login", "account", email_key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    # last_login_at is set when the session starts (sessions.start_session), after MFA.
    return user


def update_profile(user: User, *, client: ClientInfo, **changes: object) -> User:
    """Apply the given profile fields; a key absent from `changes` is left as it is."""
    allowed = {"first_name", "last_name", "phone", "username"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    if "first_name" in changes:
        user.first_name = _clean_name(changes["first_name"], "first_name")
    if "last_name" in changes:
        user.last_name = _clean_name(changes["last_name"], "last_name")
    if "phone" in changes:
        phone = clean_phone(changes["phone"])
        if phone != user.phone:
            user.phone, user.phone_verified = phone, False
    if "username" in changes:
        username = normalize_username(changes["username"])
        _assert_unique(username=username, exclude=user.id)
        _write_unique(lambda: setattr(user, "username", username), email=None,
                      username=username)
    audit.record(audit.PROFILE_UPDATED, user_id=user.id, client=client,
                 fields=sorted(changes))
    return user


def change_password(user: User, *, current_password: object, new_password: object,
                    client: ClientInfo, keep_session_id: uuid.UUID | None = None) -> User:
    """Replace the password after re-checking the current one; end every other session."""


    passwords = services().passwords
    if not isinstance(current_password, str) or not current_password:
        raise InvalidInput("Current password is required.", field="current_password")
    recheck_password(user, current_password, field="current_password")
    if not isinstance(new_password, str):
        raise InvalidInput("New password is required.", field="new_password")
    passwords.check_policy(new_password, field="new_password",
                           personal=_personal_words(user.email, user.username))
    if passwords.verify(user.password_hash, new_password):
        raise InvalidInput("The new password must differ from the current one.",
                           field="new_password")
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = utcnow()
    audit.record(audit.PASSWORD_CHANGED, user_id=user.id, session_id=keep_session_id,
                 client=client)
    sessions.end_all_sessions(user, reason="password_changed", client=client,
                              except_session_id=keep_session_id)
    return user


def recheck_password(user: User, password: str, *, field: str,
                     message: str | None = None) -> None:
    """Re-check the password of an account already signed in (changing the password,
    deleting the account, stepping a session up). Every such check of one account, through
    any page or dialect and from any address, counts against PASSWORD_RECHECK_LIMIT before
    the password is looked at, so a stolen token cannot be used to guess the password at
    the per-IP rate; a right password resets the count. Raises RateLimited (with the
    seconds to wait) or WrongPassword (naming field)."""
    throttle = services().throttle
    limit = setting("PASSWORD_RECHECK_LIMIT")
    retry_after = throttle.consume(limit, "recheck", str(user.id))
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)
    if not services().passwords.verify(user.password_hash,
                                       password[: setting("PASSWORD_MAX_LENGTH")]):
        raise WrongPassword(message, field=field)
    throttle.reset(limit, "recheck", str(user.id))


def _login_throttle_key(email: str) -> str:
    """The per-account key authenticate() counts failed attempts under."""
    return email.strip().lower()[:EMAIL_MAX_LENGTH]


def reset_login_throttle(email: str) -> None:
    """Forget the failed-login count of one email (the per-IP count is left alone)."""
    services().throttle.reset(setting("LOGIN_ACCOUNT_LIMIT"), "login", "account",
                              _login_throttle_key(email))


def deactivate(user: User, *, client: ClientInfo) -> int:
    """Switch the account off: it cannot sign in, and every session and token ends now.

    Returns how many sessions were ended. Only an administrator can switch it back on.
    """
    user.is_active = False
    audit.record(audit.ACCOUNT_DEACTIVATED, user_id=user.id, client=client)
    count = sessions.end_all_sessions(user, reason="account_deactivated", client=client)
    tokens.revoke_for_user(user.id, "account_deactivated")
    return count


def _remove_rows(table: Table, where, depth: int = 0) -> None:
    """Delete rows and apply every ON DELETE rule that points at them, as the database would.

    SQLite enforces foreign keys only with PRAGMA foreign_keys, which is off by default, so
    the rules declared on the models are carried out here on every database: CASCADE
    deletes the referring rows (recursively), SET NULL clears the reference.
    """
    if depth > 8:
        raise RuntimeError("foreign keys nest too deeply to delete by hand")
    for other in db.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table:
                continue
            referenced = select(fk.column).where(where)
            rule = (fk.ondelete or "").upper()
            if rule == "CASCADE" and other is not table:
                _remove_rows(other, fk.parent.in_(referenced), depth + 1)
            elif rule == "SET NULL":
                db.session.execute(update(other).where(fk.parent.in_(referenced))
                                   .values({fk.parent.name: None}))
    db.session.execute(delete(table).where(where))


def delete_account(user: User, *, password: object, client: ClientInfo) -> None:
    """Delete the account after re-checking its password, with everything that is its own.

    Sessions, tokens, roles, consents and application data go with it; the audit log stays,
    its events no longer pointing at anyone (user_id NULL), the deletion event included.
    """
    if not isinstance(password, str) or not password:
        raise InvalidInput("Password is required.", field="password")
    recheck_password(user, password, field="password",
                     message="The password is incorrect.")
    user_id = user.id
    sessions.end_all_sessions(user, reason="account_deleted", client=client)
    audit.record(audit.ACCOUNT_DELETED, user_id=user_id, client=client,
                 former_user_id=str(user_id))
    db.session.flush()
    users = User.__table__
    _remove_rows(users, users.c.id == user_id)
    # Rows loaded before the delete are gone; nothing may write them back.
    db.session.expire_all()


def _resolve_unlock_target(target: User | uuid.UUID | str | None, actor: User) -> User | None:
    if target is None or isinstance(target, User):
        return target or actor
    if isinstance(target, uuid.UUID):
        return get_user(target)
    return find_by_email(normalize_email(target))


def unlock(target: User | uuid.UUID | str | None, *, actor: User,
           client: ClientInfo) -> User:
    """Clear a failed-login lockout.

    With no target (or the actor themself) only the actor's own login throttle is reset: a
    locked account cannot hold a token, and no one lifts their own administrative lock.
    Anyone else's account (by User, id or email) only an administrator may unlock; it gets
    is_locked cleared and its throttle reset. A non-admin naming anyone else gets the same
    Forbidden whether or not the account exists, so the answer reveals nothing.
    """
    user = _resolve_unlock_target(target, actor)
    is_self = user is not None and user.id == actor.id
    if not is_self and not rbac.is_admin(actor):
        raise Forbidden("Only an administrator may unlock another account.")
    if user is None:
        raise NotFound("User not found.")
    was_locked = user.is_locked
    if not is_self:
        user.is_locked = False
    reset_login_throttle(user.email)
    audit.record(audit.ACCOUNT_UNLOCKED, user_id=user.id, client=client,
                 by=str(actor.id), scope="self" if is_self else "admin",
                 was_locked=was_locked)
    return user
