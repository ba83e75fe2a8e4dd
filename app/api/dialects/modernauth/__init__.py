"""modernauth: bare objects, `{"error", "message"}` on failure, mounted at /v1.
Described in docs/dialects/modernauth.md.

`document` holds the dialect object and its tables, `shapes` the request and reply shapes;
each `views_*` module registers one topic's routes on the dialect object, imported here.
"""

from app.api.dialects.modernauth.document import dialect

# Routes register as their modules are imported, in this order, which is the order the
# /docs page lists them in (the document's own).
# isort: off
from app.api.dialects.modernauth import views_account  # noqa: F401
from app.api.dialects.modernauth import views_sessions  # noqa: F401
from app.api.dialects.modernauth import views_mail  # noqa: F401
from app.api.dialects.modernauth import views_mfa_login  # noqa: F401
from app.api.dialects.modernauth import views_mfa  # noqa: F401
from app.api.dialects.modernauth import views_passkeys  # noqa: F401
from app.api.dialects.modernauth import views_devices  # noqa: F401
# isort: on

__all__ = ["dialect"]
