"""Two Tessera instances over one PostgreSQL and one Redis behave as one service.

Nothing that another instance needs lives in a process: users, sessions, tokens and keys
are in PostgreSQL, rate-limit counters in Redis. Runs only on the real parts (under
CI=true they are always configured by .ci/run).
"""

import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import DEFAULT_PASSWORD, TEST_SECRET_KEY


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_instances(database, redis_url, tmp_path):
    if database.kind != "postgresql" or not redis_url:
        pytest.skip("needs PostgreSQL and Redis (TESSERA_TEST_DATABASE_URL/REDIS_URL)")
    prefix = f"tessera-scale-{uuid.uuid4().hex[:10]}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env |= {"TESSERA_DATABASE_URL": database.fresh_url(tmp_path),
            "TESSERA_REDIS_URL": redis_url, "TESSERA_KEY_PREFIX": prefix,
            "TESSERA_SECRET_KEY": TEST_SECRET_KEY, "TESSERA_ISSUER": "http://127.0.0.1",
            "TESSERA_API_RATE_LIMITS": "modernauth.login=3 per 15 minutes"}
    servers, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port",
                 str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "instances did not start in 30 s"
                time.sleep(0.2)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        database.clean()


def test_register_on_one_log_in_on_the_other_and_logout_anywhere_ends_the_token(
        two_instances):
    a, b = two_instances
    email = f"scale-{uuid.uuid4().hex[:8]}@example.com"
    registered = httpx.post(f"{a}/v1/auth/register",
                            json={"email": email, "password": DEFAULT_PASSWORD})
    assert registered.status_code == 201, registered.text
    logged_in = httpx.post(f"{b}/v1/auth/login", json={"email": email,
                                                       "password": DEFAULT_PASSWORD})
    assert logged_in.status_code == 200, logged_in.text
    token = logged_in.json()["tokens"]["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{a}/v1/auth/me", headers=headers).json()["email"] == email
    assert httpx.post(f"{b}/v1/auth/logout", headers=headers).status_code == 200
    refused = httpx.get(f"{a}/v1/auth/me", headers=headers)
    assert refused.status_code == 401


def test_a_rate_limit_counts_requests_on_both_instances(two_instances):
    a, b = two_instances
    body = {"email": "nobody@example.com", "password": "not the password"}
    answers = [httpx.post(f"{url}/v1/auth/login", json=body).status_code
               for url in (a, b, a, b)]
    assert answers == [401, 401, 401, 429]
    assert httpx.post(f"{a}/v1/auth/login", json=body).headers["X-RateLimit-Remaining"] == "0"
