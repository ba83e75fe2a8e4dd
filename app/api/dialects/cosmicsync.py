"""cosmicsync (api-docs 000): bare objects, mounted at / as documented (/auth, /users).

Where the document is silent or unsafe:
- `application_id` (register, login, role assignment) must be the client_id of a registered
  OAuth client; anything else is a 400 naming `application_id`.
- Login returns only the documented `{token, expires_in}`; the refresh token the core issues
  with every login stays server-side. `POST /auth/refresh` takes the expired access token
  instead, accepted only when we signed it, its session is still live, and it expired
  within TESSERA_API_EXPIRED_TOKEN_GRACE (see api_logins.refresh_with_access_token).
- Custom data is kept per user and application, but the data endpoints carry no
  application in the document: they take `application_id` as a query parameter (or, on
  POST, a body field; both given must agree) and answer 400 naming it when it is absent.
  Binding it to the token would add no isolation: whoever holds the password can log in
  under any application_id.
- Values are any JSON but null, at most 16 KiB serialized and 32 levels deep; keys match
  [A-Za-z0-9_.-]{1,64}; at most 100 keys per user and application (app.core.app_data).
- `POST /users/<user_id>/roles` needs an administrator's token; `application_id` there is
  optional (absent: the role holds everywhere).
- `GET /users/me/permissions` also takes an optional `application_id` query parameter.
- `PUT /users/me` accepts username, first_name, last_name and phone; any other field is 400.
- A user with MFA: /auth/login answers `{"mfa_required": true, "mfa_token", ...}` and
  `/auth/mfa/verify` finishes it (see cosmicsync_mfa).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import ConfigDict, Field

from app.api import mfa as api_mfa
from app.api.common import (
    Body,
    Reply,
    bearer_token,
    client_info,
    principal,
    read_json,
    read_query,
)
from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect, bare_error_body
from app.core import accounts, api_logins, app_data, clients, rbac
from app.core.errors import Unauthenticated, ValidationError

dialect = Dialect(
    id="cosmicsync", title="CosmicSyncCore API", default_mount="/", error_body=bare_error_body,
    rate_limits=DEFAULT_AUTH_LIMITS,
)


# --- schemas -------------------------------------------------------------------------------

class RegisterBody(Body):
    email: str
    password: str
    username: str | None = None
    application_id: str


class LoginBody(Body):
    email: str
    password: str
    application_id: str
    device_token: str | None = None  # a trusted device's (see cosmicsync_mfa)


class ProfileBody(Body):
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class DataBody(Body):
    key: str
    value: Any
    application_id: str | None = None


class RoleBody(Body):
    role: str
    application_id: str | None = None


class Query(Body):
    """Query parameters: strings, and parameters the endpoint does not use are ignored."""

    model_config = ConfigDict(extra="ignore")


class ApplicationQuery(Query):
    application_id: str | None = Field(default=None, max_length=64)


class PermissionQuery(Query):
    action: str = Field(max_length=64)
    resource: str = Field(max_length=64)
    application_id: str | None = Field(default=None, max_length=64)


class RegisteredOut(Reply):
    message: str
    user_id: str


class TokenOut(Reply):
    token: str
    expires_in: int


class ProfileOut(Reply):
    id: str
    email: str
    username: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    email_verified: bool
    created_at: str


class MessageOut(Reply):
    message: str


class PermittedOut(Reply):
    permitted: bool


# --- input and shaping -----------------------------------------------------------------------

def data_application_id(from_body: str | None = None) -> str | None:
    """The application of a data request: the query parameter or the body field."""
    from_query = read_query(ApplicationQuery).application_id
    if from_query is not None and from_body is not None and from_query != from_body:
        raise ValidationError("application_id differs between the query and the body.",
                              field="application_id")
    return from_body if from_body is not None else from_query


def profile_out(user) -> dict:
    return {"id": str(user.id), "email": user.email, "username": user.username,
            "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
            "email_verified": user.email_verified, "created_at": user.created_at.isoformat()}


def token_out(issued: api_logins.IssuedTokens) -> dict:
    return {"token": issued.access_token, "expires_in": issued.expires_in}


# --- views -----------------------------------------------------------------------------------

@dialect.route("/auth/register", "POST", summary="Register a user for an application",
               request=RegisterBody, response=RegisteredOut, status=201, limit="register")
def register():
    body = read_json(RegisterBody)
    user = app_data.register_user(application_id=body.application_id, email=body.email,
                                  password=body.password, username=body.username,
                                  client=client_info())
    return {"message": "User registered successfully", "user_id": str(user.id)}, 201


@dialect.route("/auth/login", "POST", summary="Authenticate and receive a JWT",
               request=LoginBody, response=TokenOut, limit="login")
def login():
    body = read_json(LoginBody)
    clients.application(body.application_id)
    # The document hands out no refresh token (it refreshes with the access token).
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), with_refresh_token=False,
                                       mfa_methods=api_mfa.CODE_METHODS,
                                       device_token=body.device_token)
    return cosmicsync_mfa.login_answer(result)


@dialect.route("/auth/refresh", "POST", summary="Refresh an expired JWT (Bearer)",
               response=TokenOut, auth=True, limit="refresh")
def refresh():
    token = bearer_token()
    if token is None:
        raise Unauthenticated("A bearer token is required.")
    return token_out(api_logins.refresh_with_access_token(token, dialect=dialect.id))


@dialect.route("/users/me", "GET", summary="Retrieve the user profile", response=ProfileOut,
               auth=True)
def profile():
    return profile_out(principal().user)


@dialect.route("/users/me", "PUT", summary="Update the user profile", request=ProfileBody,
               response=ProfileOut, auth=True)
def update_profile():
    caller = principal()
    body = read_json(ProfileBody)
    user = accounts.update_profile(caller.user, client=client_info(),
                                   **body.model_dump(exclude_unset=True))
    return profile_out(user)


@dialect.route("/users/me/data", "POST", summary="Set custom user data (per application)",
               request=DataBody, query=ApplicationQuery, response=MessageOut, auth=True)
def set_data():
    caller = principal()
    body = read_json(DataBody)
    app_data.set_value(caller.user, data_application_id(body.application_id), body.key,
                       body.value)
    return {"message": "Custom data stored successfully"}


@dialect.route("/users/me/data/<key>", "GET", summary="Get custom user data (per application)",
               query=ApplicationQuery, auth=True)
def get_data(key: str):
    caller = principal()
    return jsonify(app_data.get_value(caller.user, data_application_id(), key))


@dialect.route("/users/<user_id>/roles", "POST", summary="Assign a role (admin token)",
               request=RoleBody, response=MessageOut, auth=True)
def assign_role(user_id: str):
    caller = principal()
    body = read_json(RoleBody)
    rbac.assign_role_as_admin(caller.user, user_id, body.role,
                              application_id=body.application_id, client=client_info())
    return {"message": "Role assigned successfully"}


@dialect.route("/users/me/permissions", "GET", summary="Check a permission",
               query=PermissionQuery, response=PermittedOut, auth=True)
def permissions():
    caller = principal()
    query = read_query(PermissionQuery)
    return {"permitted": rbac.check_permission(caller.user, query.action, query.resource,
                                               application_id=query.application_id)}


# The MFA routes register on `dialect` too (kept apart for size).
from app.api.dialects import cosmicsync_mfa  # noqa: E402
