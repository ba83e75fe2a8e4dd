"""The Authlib authorization server, built once per app from Tessera's grants and endpoints.

Authlib does client authentication, grant dispatch and the RFC 6749 error shape; Tessera's
own modules decide what a code, a refresh token and a token response are.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, current_app

from app.core import clients
from app.oidc import client_secret, token_response
from app.oidc.client_assertion import ClientAssertion
from app.oidc.endpoints_introspection import IntrospectionEndpoint
from app.oidc.endpoints_revocation import RevocationEndpoint
from app.oidc.grants.authorization_code import AuthorizationCodeGrant
from app.oidc.grants.client_credentials import ClientCredentialsGrant
from app.oidc.grants.refresh_token import RefreshTokenGrant


class TesseraAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        return clients.get_client(client_id)

    def save_token(self, token, request):
        """Nothing to do: refresh tokens are stored as they are minted, access tokens are JWTs."""


def _client_credentials_token(grant_type, client, user=None, scope=None, expires_in=None,
                              include_refresh_token=False):
    return token_response.for_client(client, scope or "")


def build(app: Flask) -> TesseraAuthorizationServer:
    server = TesseraAuthorizationServer()
    server.init_app(app)
    server.register_token_generator("default", _client_credentials_token)
    server.register_client_auth_method("client_secret_basic", client_secret.authenticate_basic)
    server.register_client_auth_method("client_secret_post", client_secret.authenticate_post)
    for method in ("private_key_jwt", "client_secret_jwt"):
        server.register_client_auth_method(method, ClientAssertion(method))
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    _register_endpoints(server)
    return server


def _register_endpoints(server: TesseraAuthorizationServer) -> None:
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(RevocationEndpoint)


def authorization_server() -> TesseraAuthorizationServer:
    return current_app.extensions["tessera.oauth"]
