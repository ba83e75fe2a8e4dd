"""POST /oauth2/revoke (RFC 7009): a client takes back a token it was issued.

Public clients revoke with their client_id alone (auth method "none"); confidential ones
authenticate. A refresh token takes its whole family with it; an access token is refused by
jti from now on. A token that is unknown, already dead, or another client's is answered 200
and left alone (§2.2): the answer never tells a client whether someone else's token exists.
token_type_hint is only a hint (refresh tokens are told apart by their prefix), so any value
is accepted.
"""

from __future__ import annotations

from authlib.oauth2 import rfc7009

from app.core import tokens
from app.oidc.endpoints_introspection import (
    CLIENT_AUTH_METHODS,
    FoundToken,
    authenticate_client,
    find_token,
    require_token_param,
)


class RevocationEndpoint(rfc7009.RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_endpoint_client(self, request):
        return authenticate_client(self, request)

    def check_params(self, request, client):
        require_token_param(request)

    def authenticate_token(self, request, client):
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is None or not token.check_client(client):
            return None  # unknown or not this client's: 200, nothing done
        return token

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def revoke_token(self, token: FoundToken, request):
        if token.is_refresh_token:
            tokens.revoke_refresh_token(token.value, client_id=request.client.get_client_id())
        else:
            tokens.revoke_access_token(token.claims)
