"""grant_type=client_credentials: a confidential client acting for itself."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from app.oidc.grants import TOKEN_ENDPOINT_AUTH_METHODS


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # A public client cannot keep a credential, so it cannot use this grant.
    TOKEN_ENDPOINT_AUTH_METHODS = [m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"]

    def validate_token_request(self):
        super().validate_token_request()
        requested = set((self.request.payload.scope or "").split())
        if not requested <= set(self.request.client.scope.split()):
            raise InvalidScopeError("The client may not ask for that scope.")
