"""eventchain: `{"success": true, "data"}`; failures carry AUTH_00x codes.
Described in docs/dialects/eventchain.md.

Mounted at /eventchain/v1/auth by default: the document's own base, /v1/auth, is also
modernauth's. Registration does not sign in (the document returns no token), and never
grants `admin`: only the self-service roles `attendee` and `organizer` may be picked.
A user with a second factor is refused at login (403 `mfa_required`): the document has no
step to pass it.

`document` holds the dialect object and its tables, `shapes` the request and reply shapes;
each `views_*` module registers one topic's routes on the dialect object, imported here.
"""

from app.api.dialects.eventchain.document import dialect

# Routes register as their modules are imported, in this order, which is the order the
# /docs page lists them in (the document's own).
# isort: off
from app.api.dialects.eventchain import views_signin  # noqa: F401
from app.api.dialects.eventchain import views_profile  # noqa: F401
from app.api.dialects.eventchain import views_mail  # noqa: F401
# isort: on

__all__ = ["dialect"]
