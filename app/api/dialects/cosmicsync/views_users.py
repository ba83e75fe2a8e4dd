"""cosmicsync's /users endpoints: the profile, custom data per application, roles and
permissions (the package docstring says where they depart from the document)."""

from __future__ import annotations

from flask import jsonify

from app.api.common import client_info
from app.api.dialects.cosmicsync.document import dialect
from app.api.dialects.cosmicsync.shapes import (
    ApplicationQuery,
    DataBody,
    MessageOut,
    PermissionQuery,
    PermittedOut,
    ProfileBody,
    ProfileOut,
    RoleBody,
    profile_out,
)
from app.api.raises import ADMIN, OWN_ITEM, PROFILE
from app.core import accounts, api_logins, app_data, rbac
from app.core.errors import InvalidInput


def data_application_id(query: ApplicationQuery, from_body: str | None = None) -> str | None:
    """The application a data request names: the query parameter or the body field (None:
    the application of the token's login, see login_application)."""
    from_query = query.application_id
    if from_query is not None and from_body is not None and from_query != from_body:
        raise InvalidInput("application_id differs between the query and the body.",
                           field="application_id")
    return from_body if from_body is not None else from_query


def login_application(caller: api_logins.Principal) -> str | None:
    """The application the token's login named; None (the user's own space) for a login
    that named none, such as another dialect's."""
    return caller.session.application_id if caller.session is not None else None


@dialect.route("/users/me", "GET", summary="Retrieve the user profile", response=ProfileOut,
               auth=True)
def profile(caller: api_logins.Principal):
    return profile_out(caller.user)


@dialect.route("/users/me", "PUT", summary="Update the user profile", request=ProfileBody,
               response=ProfileOut, auth=True,
               raises=PROFILE)
def update_profile(caller: api_logins.Principal, body: ProfileBody):
    user = accounts.update_profile(caller.user, client=client_info(),
                                   **body.model_dump(exclude_unset=True))
    return profile_out(user)


@dialect.route("/users/me/data", "POST", summary="Set custom user data (per application)",
               request=DataBody, query=ApplicationQuery, response=MessageOut, auth=True,
               raises=OWN_ITEM)
def set_data(caller: api_logins.Principal, body: DataBody, query: ApplicationQuery):
    app_data.set_value(caller.user, data_application_id(query, body.application_id),
                       body.key, body.value, default=login_application(caller))
    return {"message": "Custom data stored successfully"}


@dialect.route("/users/me/data/<key>", "GET", summary="Get custom user data (per application)",
               query=ApplicationQuery, auth=True,
               raises=OWN_ITEM)
def get_data(key: str, caller: api_logins.Principal, query: ApplicationQuery):
    return jsonify(app_data.get_value(caller.user, data_application_id(query), key,
                                      default=login_application(caller)))


@dialect.route("/users/<user_id>/roles", "POST", summary="Assign a role (admin token)",
               request=RoleBody, response=MessageOut, auth=True,
               raises=ADMIN)
def assign_role(user_id: str, caller: api_logins.Principal, body: RoleBody):
    rbac.assign_role_as_admin(caller.user, user_id, body.role,
                              application_id=body.application_id, client=client_info())
    return {"message": "Role assigned successfully"}


@dialect.route("/users/me/permissions", "GET", summary="Check a permission",
               query=PermissionQuery, response=PermittedOut, auth=True,
               raises=OWN_ITEM)
def permissions(caller: api_logins.Principal, query: PermissionQuery):
    return {"permitted": rbac.check_permission(caller.user, query.action, query.resource,
                                               application_id=query.application_id)}
