"""The token, introspection and revocation routes: each hands the request to Authlib."""

from flask import Blueprint

from app.extensions import csrf
from app.oidc.server import authorization_server

bp = Blueprint("oauth2", __name__, url_prefix="/oauth2")
# These endpoints authenticate clients, not browsers: no cookie, no CSRF token.
csrf.exempt(bp)


@bp.post("/token")
def token():
    return authorization_server().create_token_response()


@bp.post("/introspect")
def introspect():
    return authorization_server().create_endpoint_response("introspection")


@bp.post("/revoke")
def revoke():
    return authorization_server().create_endpoint_response("revocation")
