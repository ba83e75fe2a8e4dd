"""cosmicsync: bare objects, mounted at / as documented (/auth, /users).
Described in docs/dialects/cosmicsync.md.

Where the document is silent or unsafe:
- `application_id` (register, login, role assignment) must be the client_id of a registered
  OAuth client; anything else is a 400 naming `application_id`.
- Login returns only the documented `{token, expires_in}`; the refresh token the core issues
  with every login stays server-side. `POST /auth/refresh` takes the expired access token
  instead, accepted only when we signed it, its session is still live, and it expired
  within TESSERA_API_EXPIRED_TOKEN_GRACE (see api_logins.refresh_with_access_token).
- Custom data is kept per user and application, but the data endpoints carry no
  application in the document: they default to the application the token's login named
  (remembered on its session), or to the user's own space for a login that named none
  (another dialect's). An `application_id` query parameter (or, on POST, a body field;
  both given must agree) selects another: pinning the token to its application would add
  no isolation, as whoever holds the password can log in under any application_id.
- Values are any JSON but null, at most 16 KiB serialized and 32 levels deep; keys match
  [A-Za-z0-9_.-]{1,64}; at most 100 keys per user and application (app.core.app_data).
- `POST /users/<user_id>/roles` needs an administrator's token; `application_id` there is
  optional (absent: the role holds everywhere).
- `GET /users/me/permissions` also takes an optional `application_id` query parameter.
- `PUT /users/me` accepts username, first_name, last_name and phone; any other field is 400.
- A user with MFA: /auth/login answers `{"mfa_required": true, "mfa_token", ...}` and
  `/auth/mfa/verify` finishes it (see views_mfa).

`document` holds the dialect object and its tables, `shapes` the request and reply shapes;
each `views_*` module registers one topic's routes on the dialect object, imported here.
"""

from app.api.dialects.cosmicsync.document import dialect

# Routes register as their modules are imported, in this order, which is the order the
# /docs page lists them in (the document's own).
# isort: off
from app.api.dialects.cosmicsync import views_auth  # noqa: F401
from app.api.dialects.cosmicsync import views_users  # noqa: F401
from app.api.dialects.cosmicsync import views_mfa  # noqa: F401
# isort: on

__all__ = ["dialect"]
