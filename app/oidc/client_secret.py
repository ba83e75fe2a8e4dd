"""client_secret_basic and client_secret_post client authentication (RFC 6749 §2.3.1).

Authlib's own versions ask the client model to check the secret; a model holds data only,
so these ask core's digest rule (clients.verify_secret) instead. Everything else follows
Authlib's: the same order, the same errors, and a wrong secret is simply no match, so the
server answers with its usual invalid_client.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from app.core import clients


def authenticate_basic(query_client, request):
    """The id and secret in an HTTP Basic Authorization header."""
    client_id, client_secret = extract_basic_authorization(request.headers)
    return _authenticate(query_client, client_id, client_secret, status_code=401)


def authenticate_post(query_client, request):
    """The id and secret as form parameters of the request body."""
    form = request.form
    return _authenticate(query_client, form.get("client_id"), form.get("client_secret"),
                         status_code=400)


def _authenticate(query_client, client_id, client_secret, *, status_code: int):
    if not client_id or not client_secret:
        return None
    client = query_client(client_id)
    if not client:
        raise InvalidClientError(status_code=status_code,
                                 description="The client does not exist on this server.")
    return client if clients.verify_secret(client, client_secret) else None
