"""Rate-limit headers: X-RateLimit-* on every limited response, Retry-After only on a 429
(RFC 6585 §4, RFC 9110 §10.2.3), in every dialect."""

from __future__ import annotations

import pytest

from tests.conftest import fetch_csrf

LOGIN_PATHS = {
    "cosmicsync": "/auth/login",
    "apiauth": "/api/auth/login",
    "apiv1": "/api/v1/auth/login",
    "eventchain": "/eventchain/v1/auth/login",
    "modernauth": "/v1/auth/login",
}


@pytest.mark.parametrize("dialect", sorted(LOGIN_PATHS))
def test_retry_after_comes_only_with_the_429(app_factory, dialect):
    client = app_factory(API_RATE_LIMITS={f"{dialect}.login": "1 per minute"}).test_client()
    first = client.post(LOGIN_PATHS[dialect], json={})
    assert first.status_code == 400
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in first.headers
    assert "Retry-After" not in first.headers
    refused = client.post(LOGIN_PATHS[dialect], json={})
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "1"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_a_successful_modernauth_forgot_password_has_no_retry_after(client):
    response = client.post("/v1/auth/forgot-password", json={"email": "ada@example.com"})
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "4"
    assert "Retry-After" not in response.headers


def test_the_passkey_endpoints_limit_has_no_retry_after_on_success(client):
    response = client.post("/webauthn/login/begin", json={},
                           headers={"X-CSRFToken": fetch_csrf(client, "/login")})
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "60"
    assert "Retry-After" not in response.headers
