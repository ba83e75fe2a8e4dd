"""Discovery (OIDC Discovery 1.0, RFC 8414): the truth about what this server does.

Built once per app from the registered endpoints and served from memory. It lists only
what works: adding a feature means adding it here, in the same change.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.core import acr
from app.extensions import csrf
from app.oidc.claims import SCOPE_CLAIMS, SUPPORTED_CLAIMS
from app.oidc.client_assertion import ASYMMETRIC_ALGS
from app.oidc.grants import TOKEN_ENDPOINT_AUTH_METHODS

bp = Blueprint("discovery", __name__)
csrf.exempt(bp)

SIGNING_ALGS = ["RS256", "ES256", "EdDSA"]


def metadata(issuer: str) -> dict:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "end_session_endpoint": f"{issuer}/oauth2/logout",
        "scopes_supported": ["openid", *SCOPE_CLAIMS, "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SIGNING_ALGS,
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": [*ASYMMETRIC_ALGS, "HS256"],
        "introspection_endpoint_auth_methods_supported": [
            m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"],
        "revocation_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(SUPPORTED_CLAIMS) + ["iss", "aud", "exp", "iat", "auth_time",
                                                      "nonce", "acr", "amr", "sid", "azp"],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": True,
        "claim_types_supported": ["normal"],
        "acr_values_supported": acr.SUPPORTED,
    }


def _serve():
    document = current_app.extensions.get("tessera.discovery")
    issuer = current_app.config["ISSUER"]
    if document is None or document["issuer"] != issuer:
        document = current_app.extensions["tessera.discovery"] = metadata(issuer)
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    return _serve()


@bp.get("/.well-known/oauth-authorization-server")
def oauth_authorization_server():
    return _serve()
