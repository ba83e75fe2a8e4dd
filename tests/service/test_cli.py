"""The `tessera` console script, run as a user would run it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import select

from app.models import User
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def tessera(app):
    """Run `tessera ...` against this test's database; returns the CompletedProcess."""

    def run(*args: str, database_url: str | None = None, timeout: int = 60,
            extra_env: dict[str, str] | None = None):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("TESSERA_")}
        env |= {"TESSERA_DATABASE_URL": database_url or app.config["DATABASE_URL"],
                "TESSERA_SECRET_KEY": TEST_SECRET_KEY} | (extra_env or {})
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                              capture_output=True, text=True, timeout=timeout)

    return run


def test_users_create_prints_the_new_user_as_json(tessera, query):
    result = tessera("users", "create", "--email", "Admin@Example.com", "--password",
                     "violet lantern river", "--username", "root-admin", "--admin",
                     "--verified")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["email"] == "admin@example.com"
    assert (printed["roles"], printed["email_verified"]) == (["admin"], True)
    assert "password" not in json.dumps(printed)
    user = query(lambda s: s.scalar(select(User)))
    assert str(user.id) == printed["id"]


PRODUCTION = {"TESSERA_ENV": "production", "TESSERA_ISSUER": "https://id.example.com"}


@pytest.mark.parametrize("extra_env", [{}, PRODUCTION | {
    "TESSERA_EMAIL_ALLOW_SPECIAL_USE_DOMAINS": "true"}], ids=["development", "allowed"])
def test_users_create_accepts_a_reserved_test_domain_in_development_or_when_allowed(
        tessera, extra_env):
    result = tessera("users", "create", "--email", "a@example.test", "--password",
                     "violet lantern river", extra_env=extra_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["email"] == "a@example.test"


def test_users_create_refuses_a_reserved_test_domain_in_production(tessera):
    result = tessera("users", "create", "--email", "a@example.test", "--password",
                     "violet lantern river", extra_env=PRODUCTION)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: validation (email): Enter a valid email address."


@pytest.mark.parametrize("args, reason", [
    (["--email", "taken@example.com", "--password", "another fine passphrase"],
     "error: email_taken (email): An account with this email already exists."),
    (["--email", "weak@example.com", "--password", "password1"],
     "error: weak_password (password): This password is too common. Choose another."),
    (["--email", "not-an-email", "--password", "another fine passphrase"],
     "error: validation (email): Enter a valid email address."),
])
def test_users_create_refuses_bad_input_with_a_one_line_reason(tessera, make_user, args,
                                                               reason):
    make_user(email="taken@example.com")
    result = tessera("users", "create", *args)
    assert result.returncode == 1
    assert result.stderr.strip() == reason
    assert result.stdout == ""


def test_users_create_without_required_options_is_a_usage_error(tessera):
    result = tessera("users", "create", "--email", "x@example.com")
    assert result.returncode == 2
    assert "--password" in result.stderr


def test_db_upgrade_migrates_an_empty_sqlite_database(tessera, tmp_path):
    target = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = tessera("db", "upgrade", database_url=target)
    assert first.returncode == 0, first.stderr
    again = tessera("db", "upgrade", database_url=target)
    assert again.returncode == 0 and "up to date" in again.stdout
    created = tessera("users", "create", "--email", "a@example.com", "--password",
                      "a sturdy passphrase", database_url=target)
    assert created.returncode == 0, created.stderr


def test_a_production_start_without_a_secret_key_refuses_to_run(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env |= {"TESSERA_ENV": "production", "TESSERA_ISSUER": "https://id.example.com",
            "TESSERA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "TESSERA_SECRET_KEY must be set when TESSERA_ENV=production" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_the_embedded_database_and_answers(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env |= {"TESSERA_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "TESSERA_SECRET_KEY": TEST_SECRET_KEY}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host",
                               "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "tessera serve did not answer in 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
            assert page.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
