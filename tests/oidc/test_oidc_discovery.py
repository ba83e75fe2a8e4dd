"""Discovery documents (OIDC Discovery 1.0, RFC 8414) describe exactly what works."""

import pytest

from tests.support.flow import make_client
from tests.support.pkce import pkce_pair


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration",
                                  "/.well-known/oauth-authorization-server"])
def test_discovery_names_the_issuer_and_its_endpoints(app, client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    document = response.get_json()
    issuer = app.config["ISSUER"]
    assert document["issuer"] == issuer
    for name, suffix in [("authorization_endpoint", "/oauth2/authorize"),
                         ("token_endpoint", "/oauth2/token"),
                         ("userinfo_endpoint", "/oauth2/userinfo"),
                         ("jwks_uri", "/.well-known/jwks.json"),
                         ("introspection_endpoint", "/oauth2/introspect"),
                         ("revocation_endpoint", "/oauth2/revoke"),
                         ("end_session_endpoint", "/oauth2/logout")]:
        assert document[name] == issuer + suffix
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["request_parameter_supported"] is False
    assert document["authorization_response_iss_parameter_supported"] is True
    assert "none" not in document["id_token_signing_alg_values_supported"]


def test_every_advertised_endpoint_is_routed(app, client):
    document = client.get("/.well-known/openid-configuration").get_json()
    issuer = app.config["ISSUER"]
    routed = {rule.rule for rule in app.url_map.iter_rules()}
    for name, url in document.items():
        if name.endswith(("_endpoint", "_uri")) and url.startswith(issuer):
            assert url[len(issuer):] in routed, name


def test_every_advertised_signing_alg_has_a_published_key(client):
    document = client.get("/.well-known/openid-configuration").get_json()
    published = {key["alg"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert set(document["id_token_signing_alg_values_supported"]) <= published


def test_every_advertised_response_mode_works(app, client, make_user):
    from tests.conftest import login
    from tests.support.flow import follow_to_code

    rp = make_client(app, skip_consent=True)
    login(client, make_user()["email"])
    document = client.get("/.well-known/openid-configuration").get_json()
    for mode in document["response_modes_supported"]:
        if mode == "query":
            assert "code" in follow_to_code(client, rp, pkce_pair()[1])


def test_discovery_follows_the_configured_issuer(app_factory):
    app = app_factory(ISSUER="https://id.example.com")
    document = app.test_client().get("/.well-known/openid-configuration").get_json()
    assert document["issuer"] == "https://id.example.com"
    assert document["token_endpoint"] == "https://id.example.com/oauth2/token"
