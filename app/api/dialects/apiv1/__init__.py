"""apiv1 (docs/dialects/apiv1.md): success `{"message", "data", "status"}`; errors add `error`.

Field names are the document's camelCase. Core names a field in its own spelling
(`first_name`, `current_password`, ...); the error envelope translates it back, so an error
always names the field the client sent.

`document` holds the dialect object and its tables, `shapes` the request and reply shapes;
each `views_*` module registers one topic's routes on the dialect object, imported here.
"""

from app.api.dialects.apiv1.document import dialect

# Routes register as their modules are imported, in this order, which is the order the
# /docs page lists them in (the document's own).
# isort: off
from app.api.dialects.apiv1 import views_signin  # noqa: F401
from app.api.dialects.apiv1 import views_account  # noqa: F401
from app.api.dialects.apiv1 import views_sessions  # noqa: F401
from app.api.dialects.apiv1 import views_verification  # noqa: F401
from app.api.dialects.apiv1 import views_mfa  # noqa: F401
# isort: on

__all__ = ["dialect"]
