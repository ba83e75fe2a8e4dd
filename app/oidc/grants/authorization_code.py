"""grant_type=authorization_code, with PKCE (RFC 7636) attached as Authlib's extension."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from app.core import authorization_codes, session_bound
from app.extensions import db
from app.models import User
from app.oidc import token_response
from app.oidc.grants import TOKEN_ENDPOINT_AUTH_METHODS


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def query_authorization_code(self, code, client):
        row = authorization_codes.find(code)
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            authorization_codes.revoke_issued(row)
            return None
        if authorization_codes.is_expired(row):
            return None
        return row

    def create_token_response(self):
        """Claim the code first, then mint: a losing concurrent exchange issues nothing."""
        client = self.request.client
        row = self.request.authorization_code
        if not authorization_codes.claim(row):
            authorization_codes.revoke_issued(row)
            raise InvalidGrantError("The authorization code has already been used.")
        user = db.session.get(User, row.user_id)
        if user is None or session_bound.live_session(row.session_id) is None:
            raise InvalidGrantError("The sign-in session behind this code has ended.")
        issued = token_response.for_user(
            client, token_response.grantee_from_code(row, user), row.scope,
            new_refresh=client.check_grant_type("refresh_token"),
        )
        authorization_codes.record_issued(row, access_claims=issued.access_claims,
                                          refresh_family_id=issued.refresh_row.family_id
                                          if issued.refresh_row else None)
        return 200, issued.body, self.TOKEN_RESPONSE_HEADER

    # Authlib calls these on its default path, which create_token_response replaces.
    def authenticate_user(self, authorization_code):  # pragma: no cover
        return db.session.get(User, authorization_code.user_id)

    def delete_authorization_code(self, authorization_code):  # pragma: no cover
        authorization_codes.claim(authorization_code)

    def save_authorization_code(self, code, request):  # pragma: no cover
        raise NotImplementedError("codes are issued by app.oidc.authorize")
