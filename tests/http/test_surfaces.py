"""Each surface answers errors in its own shape: the edge asks which surface owns a path."""

import pytest
from flask import abort

from tests.conftest import post_form


def test_an_unknown_path_under_a_dialect_mount_is_that_dialects_404(client):
    response = client.get("/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "No such endpoint."}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_dialect_mounted_at_the_root_claims_only_its_own_first_segments(client):
    # cosmicsync serves /auth/... and /users/... from /; /health stays the edge's JSON.
    assert client.get("/users/no-such").get_json()["error"] == "not_found"
    health = client.get("/health/no-such")
    assert health.status_code == 404 and health.get_json()["error"] == "page_not_found"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_wrong_method_on_a_dialect_route_is_a_405_in_its_envelope_with_allow(client):
    response = client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json() == {"message": "Method not allowed.",
                                   "error": "method_not_allowed", "status": 405}


def test_a_wrong_method_on_the_token_endpoint_is_oauth_json_with_allow(client):
    response = client.get("/oauth2/token")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/oauth2/userinfo", "/oauth2/token", "/oauth2/introspect",
                                  "/oauth2/revoke"])
def test_every_answer_of_the_private_oauth_endpoints_is_no_store(client, path):
    response = client.post(path)
    assert response.status_code >= 400
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_discovery_and_jwks_stay_cacheable(client):
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert "Pragma" not in response.headers


def test_an_unexpected_error_under_a_dialect_is_a_500_in_its_envelope(app):
    @app.get("/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/v1/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error",
                                   "message": "An unexpected error occurred."}


def test_an_http_error_raised_by_a_json_endpoint_keeps_its_own_description(app):
    @app.get("/openapi/teapot")
    def teapot():
        abort(400, "The teapot refuses.")

    response = app.test_client().get("/openapi/teapot")
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request",
                                   "error_description": "The teapot refuses."}


def test_a_refused_form_keeps_the_headers_of_its_error(app_factory):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="2 per minute")
    client = app.test_client()
    email = f"throttled-{id(app)}@example.com"
    statuses = [post_form(client, "/login", {"email": email, "password": "wrong password"})
                for _ in range(3)]
    assert [response.status_code for response in statuses] == [401, 401, 429]
    assert 0 < int(statuses[-1].headers["Retry-After"]) <= 60
    assert "Retry-After" not in statuses[0].headers
