"""grant_type=refresh_token: rotate on every use; reuse of a rotated token kills its family."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin

from app.core import tokens
from app.core.errors import InvalidGrant, InvalidScope
from app.extensions import db
from app.models import AuthSession, User
from app.oidc import token_response
from app.oidc.grants import TOKEN_ENDPOINT_AUTH_METHODS


class RefreshTokenGrant(BaseGrant, TokenEndpointMixin):
    GRANT_TYPE = "refresh_token"
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(
                "The client is not allowed to use grant_type=refresh_token.")
        if not self.request.form.get("refresh_token"):
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        self.request.client = client

    def create_token_response(self):
        client = self.request.client
        try:
            plain, new_row, _old = tokens.rotate_refresh_token(
                self.request.form["refresh_token"], client_id=client.client_id,
                scope=self.request.form.get("scope"))
        except InvalidScope as error:
            raise InvalidScopeError(error.message) from None
        except InvalidGrant as error:
            raise InvalidGrantError(error.message) from None
        user = db.session.get(User, new_row.user_id)
        session = db.session.get(AuthSession, new_row.session_id) if new_row.session_id else None
        if user is None:
            raise InvalidGrantError("The refresh token's user no longer exists.")
        grantee = token_response.Grantee(
            user=user, session_id=new_row.session_id,
            auth_time=int(session.auth_time.timestamp()) if session else None,
            amr=list(session.amr or []) if session else [], acr=session.acr if session else None,
        )
        # A narrower scope applies to this access token; the refresh token keeps the grant.
        scope = self.request.form.get("scope") or new_row.scope
        # OIDC Core §12.2: a refreshed ID token carries no nonce.
        issued = token_response.for_user(client, grantee, scope,
                                         refresh=(plain, new_row), nonce_in_id_token=False)
        return 200, issued.body, self.TOKEN_RESPONSE_HEADER
