"""What every response carries, and how errors look."""

import pytest

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-XSS-Protection": "1; mode=block",
}


@pytest.mark.parametrize("method, path", [("GET", "/login"), ("GET", "/health"),
                                          ("GET", "/no-such-page"), ("POST", "/login"),
                                          ("GET", "/static/tessera.css")])
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.open(path, method=method)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "Strict-Transport-Security" not in response.headers


def test_https_issuer_adds_hsts_and_host_prefixed_secure_cookies(app_factory, make_user):
    app = app_factory(ISSUER="https://id.example.com")
    client = app.test_client()
    response = client.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    state_cookie = client.get_cookie("__Host-tessera_state")
    assert state_cookie is not None and state_cookie.secure
    user = make_user()
    from tests.conftest import DEFAULT_PASSWORD
    from tests.support.csrf import csrf_from

    token = csrf_from(response.get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "email": user["email"],
                                "password": DEFAULT_PASSWORD})
    cookie = client.get_cookie("__Host-tessera_session")
    assert cookie is not None
    assert (cookie.secure, cookie.http_only, cookie.same_site, cookie.path) == (
        True, True, "Lax", "/")


def test_unknown_page_is_a_themed_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "tessera.css" in html


def test_wrong_method_is_a_themed_405_with_allow(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Method not allowed" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_themed_500_without_a_trace(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_an_oversized_body_is_a_413_not_a_crash(client):
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_json_endpoints_answer_errors_in_json(client):
    response = client.get("/health/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "page_not_found"


def test_pages_load_nothing_from_other_hosts(client):
    html = client.get("/signup").get_data(as_text=True)
    assert "http://" not in html.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in html
