"""apiauth: `{"status": "success", ...}`; failures `{"status": "fail"|"error"}`.
Described in docs/dialects/apiauth.md.

Where the document is silent or unsafe:
- `role: "admin"` at registration is granted only when the request carries an
  administrator's bearer token; anyone else gets 403 in the envelope (self-service:
  `sub-admin`, the default). The `jwt` cookie never counts for this.
- The token is also set as the `jwt` cookie (HttpOnly, SameSite=Lax, Secure when the issuer
  is https, Path = this dialect's mount, Max-Age = the token lifetime, 30 days by default as
  the document's JWT_EXPIRE). `/me` and `/logout` accept the Authorization header or the
  cookie; the header wins when both are sent.
- Logout ends the server-side session, so the token stops working at once everywhere, not
  only in this browser; it needs a valid token (401 otherwise).
- `role` in user objects is the user's most privileged global role (admin, then sub-admin,
  then any other by name), or null for an account that holds none.
- Login returns the same user object as registration (a superset of the documented one).
- reset-password sets the password and ends every session, but does not sign in (no token):
  a user with a second factor must still pass it at the next login.
- The document has no MFA step, so a user with a second factor is refused at login (after
  the right password) with 403 `mfa_required` in the envelope, and no token.

`document` holds the dialect object and its tables, `shapes` the request and reply shapes;
each `views_*` module registers one topic's routes on the dialect object, imported here.
"""

from app.api.dialects.apiauth.document import dialect

# Routes register as their modules are imported, in this order, which is the order the
# /docs page lists them in (the document's own).
# isort: off
from app.api.dialects.apiauth import views_account  # noqa: F401
from app.api.dialects.apiauth import views_password  # noqa: F401
# isort: on

__all__ = ["dialect"]
