"""Redis stopped and started again under a running app: refuse, serve, log once, recover.

A private redis-server (tests/support/redis_server.py) is stopped mid-test; the shared one
is never touched. Sign-ins, MFA steps and mail sends fail closed (503 with Retry-After in
the owning surface's envelope), refreshes fail open (served without their limit), and once
Redis is back the limits count in it again.
"""

from __future__ import annotations

import logging
import shutil
import time

import pytest

from tests.conftest import DEFAULT_PASSWORD, IN_CI, fetch_csrf
from tests.support.redis_server import PrivateRedis

RECOVERY_DEADLINE = 10.0  # seconds for the app to see Redis back (it probes every second)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def _login(client, email):
    return client.post("/v1/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})


def _refresh(client, refresh_token):
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def _outage_records(caplog):
    return [r for r in caplog.records if "Redis unreachable" in r.getMessage()]


def _recovery_records(caplog):
    return [r for r in caplog.records if "Redis reachable again" in r.getMessage()]


def test_redis_outage_refuses_sign_ins_with_503_serves_refresh_and_recovers(
        app_factory, make_user, private_redis, caplog):
    app = app_factory(REDIS_URL=private_redis.url, REDIS_TIMEOUT=1,
                      API_RATE_LIMITS={"modernauth.refresh": "4 per minute"})
    user = make_user()
    client = app.test_client()
    signed_in = _login(client, user["email"])
    assert signed_in.status_code == 200, signed_in.get_json()
    refresh_token = signed_in.get_json()["tokens"]["refresh_token"]
    page_csrf = fetch_csrf(client, "/login")
    caplog.set_level(logging.INFO)

    private_redis.stop()

    # Fail closed, in each surface's envelope: a dialect's login, MFA step and mail send ...
    for path, body in [("/v1/auth/login", {"email": user["email"], "password": "x"}),
                       ("/v1/auth/login/mfa", {"mfa_token": "x", "code": "123456"}),
                       ("/v1/auth/forgot-password", {"email": user["email"]})]:
        response = client.post(path, json=body)
        assert response.status_code == 503, (path, response.get_json())
        assert response.headers["Retry-After"].isdigit()
        assert response.get_json()["error"] == "temporarily_unavailable"
        assert set(response.get_json()) == {"error", "message"}
    eventchain = client.post("/eventchain/v1/auth/login",
                             json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert eventchain.status_code == 503
    assert eventchain.get_json()["success"] is False
    assert "Retry-After" in eventchain.headers
    # ... the OAuth-shaped JSON of the passkey ceremonies ...
    passkey = client.post("/webauthn/login/begin", json={},
                          headers={"X-CSRFToken": page_csrf})
    assert passkey.status_code == 503 and "Retry-After" in passkey.headers
    assert passkey.get_json()["error"] == "temporarily_unavailable"
    assert "error_description" in passkey.get_json()
    # ... and a themed page for the hosted sign-in (core's login throttle).
    page = client.post("/login", data={"csrf_token": page_csrf, "email": user["email"],
                                       "password": DEFAULT_PASSWORD})
    assert page.status_code == 503 and "Retry-After" in page.headers
    assert page.mimetype == "text/html" and "tessera.css" in page.get_data(as_text=True)

    # Fail open: refreshes are served without their limit, more times than it allows.
    for _ in range(5):
        refreshed = _refresh(client, refresh_token)
        assert refreshed.status_code == 200, refreshed.get_json()
        assert "X-RateLimit-Limit" not in refreshed.headers
        refresh_token = refreshed.get_json()["tokens"]["refresh_token"]
    assert client.get("/login").status_code == 200

    # Logged once for the whole outage, whatever the number of refused requests.
    assert len(_outage_records(caplog)) == 1
    assert not _recovery_records(caplog)

    private_redis.start()

    deadline = time.monotonic() + RECOVERY_DEADLINE
    while True:
        refreshed = _refresh(client, refresh_token)
        assert refreshed.status_code == 200, refreshed.get_json()
        refresh_token = refreshed.get_json()["tokens"]["refresh_token"]
        if "X-RateLimit-Limit" in refreshed.headers:
            break
        assert time.monotonic() < deadline, "the app never saw Redis back"
        time.sleep(0.2)
    # Counted in Redis again: the limit of 4 is reached and refused.
    assert refreshed.headers["X-RateLimit-Remaining"] == "3"
    statuses = [_refresh(client, refresh_token).status_code for _ in range(4)]
    assert statuses[-1] == 429
    assert _login(client, user["email"]).status_code == 200
    assert len(_recovery_records(caplog)) == 1
    assert len(_outage_records(caplog)) == 1


def test_a_refresh_that_first_meets_the_outage_is_served(app_factory, make_user,
                                                         private_redis, caplog):
    app = app_factory(REDIS_URL=private_redis.url, REDIS_TIMEOUT=1)
    user = make_user()
    client = app.test_client()
    refresh_token = _login(client, user["email"]).get_json()["tokens"]["refresh_token"]
    caplog.set_level(logging.INFO)

    private_redis.stop()

    refreshed = _refresh(client, refresh_token)
    assert refreshed.status_code == 200, refreshed.get_json()
    assert refreshed.get_json()["tokens"]["refresh_token"] != refresh_token
    assert len(_outage_records(caplog)) == 1
    assert _login(client, user["email"]).status_code == 503
    assert len(_outage_records(caplog)) == 1
