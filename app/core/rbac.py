"""Role-based access control: who holds which role, and what a role permits.

Permissions are named `resource:action`; a granted `*` means everything, `*:read` any
resource's read, `users:*` any action on users. Roles are held globally or within one
application (an OAuth client), and an application-scoped check also counts global roles.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from app.core import audit, clients, upsert
from app.core.context import ClientInfo
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Role, User, UserRole
from app.models.types import utcnow

ROLE_ASSIGNED = "role.assigned"


def role_by_name(name: object) -> Role:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("A role name is required.", field="role")
    role = db.session.scalar(select(Role).where(Role.name == name.strip().lower()))
    if role is None:
        raise InvalidInput(f"There is no role named {name.strip()!r}.", field="role")
    return role


def _assignments(user_id: uuid.UUID, application_id: str | None):
    scope = UserRole.application_id.is_(None)
    if application_id is not None:
        scope = or_(scope, UserRole.application_id == application_id)
    return select(UserRole).where(UserRole.user_id == user_id, scope)


def role_names(user: User, application_id: str | None = None) -> list[str]:
    rows = db.session.scalars(_assignments(user.id, application_id))
    return sorted({row.role.name for row in rows})


def permission_names(user: User, application_id: str | None = None) -> set[str]:
    rows = db.session.scalars(_assignments(user.id, application_id))
    return {permission.name for row in rows for permission in row.role.permissions}


def is_admin(user: User) -> bool:
    return "admin" in role_names(user)


def is_permitted(user: User, action: str, resource: str,
                 application_id: str | None = None) -> bool:
    action, resource = action.strip().lower(), resource.strip().lower()
    for granted in permission_names(user, application_id):
        if granted == "*" or granted == f"{resource}:{action}":
            return True
        granted_resource, _, granted_action = granted.partition(":")
        if granted_resource == "*" and granted_action == action:
            return True
        if granted_action == "*" and granted_resource == resource:
            return True
    return False


def assign_role(user: User, role_name: object, *, application_id: str | None = None,
                actor: User | None = None, client: ClientInfo | None = None) -> UserRole:
    """Give a user a role (idempotent); callers decide who may do it."""
    if user is None:
        raise NotFound("User not found.", field="user_id")
    role = role_by_name(role_name)
    everywhere = application_id is None
    # One statement, so two concurrent assignments make one row and no error; a role held
    # everywhere has its own partial unique index (application_id IS NULL).
    created = upsert.insert_or_keep(
        UserRole, {"id": uuid.uuid4(), "user_id": user.id, "role_id": role.id,
                   "application_id": application_id, "created_at": utcnow()},
        conflict=("user_id", "role_id") if everywhere
        else ("user_id", "role_id", "application_id"),
        where=UserRole.application_id.is_(None) if everywhere else None)
    if created:
        audit.record(ROLE_ASSIGNED, user_id=user.id, client=client, role=role.name,
                     application_id=application_id, by=str(actor.id) if actor else None)
    return db.session.scalar(select(UserRole).where(
        UserRole.user_id == user.id, UserRole.role_id == role.id,
        UserRole.application_id.is_(None) if everywhere
        else UserRole.application_id == application_id))


def registration_roles(requested: object, *, self_service: tuple[str, ...], default: str,
                       actor: User | None) -> tuple[str, ...]:
    """The roles a new account may start with.

    Anyone may pick one of the dialect's self-service roles; any other role (admin above
    all) only an administrator's token may grant. A document that lets a registrant ask
    for `admin` keeps its shape, but the request is refused unless an admin makes it.
    """
    if requested is None or requested == "":
        return (default,) if default else ()
    if not isinstance(requested, str):
        raise InvalidInput("role must be a string.", field="role")
    role = role_by_name(requested).name
    if role in self_service:
        return (role,)
    if actor is None or not is_admin(actor):
        raise Forbidden(f"Only an administrator may create an account with role {role!r}.",
                        field="role")
    return (role,)


def _user(user_id: object) -> User | None:
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None
    return db.session.get(User, key)


def assign_role_as_admin(actor: User, user_id: object, role_name: object, *,
                         application_id: object = None,
                         client: ClientInfo | None = None) -> UserRole:
    """An administrator gives a user a role, everywhere or within one application.

    Checked in this order: the actor is an admin (403), the user exists (404), the
    application is a registered client (400), the role exists (400).
    """
    if actor is None or not is_admin(actor):
        raise Forbidden("Only an administrator may assign roles.")
    user = _user(user_id)
    if user is None:
        raise NotFound("User not found.", field="user_id")
    if application_id is not None:
        application_id = clients.application(application_id).client_id
    return assign_role(user, role_name, application_id=application_id, actor=actor,
                       client=client)


def check_permission(user: User, action: object, resource: object, *,
                     application_id: object = None) -> bool:
    """is_permitted for a question from outside: action and resource required, and an
    application, when named, must be a registered client."""
    for name, value in (("action", action), ("resource", resource)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name} is required.", field=name)
    if application_id is not None:
        application_id = clients.application(application_id).client_id
    return is_permitted(user, action, resource, application_id)
