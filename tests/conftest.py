"""What every test folder shares: a clean database per test, app and user factories, the
form helpers, and (as a plugin) a live server and a browser. Each folder's own conftest.py
adds from tests/support/ the fixtures only it needs: a mail server, an MFA user and clock.

The suite runs on the embedded defaults (SQLite, in-process state) unless
TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL (or the runtime TESSERA_DATABASE_URL /
TESSERA_REDIS_URL) name real services. Migrations run once per test session (per xdist
worker); each test then starts from an empty schema: a fresh copy of a migrated SQLite
file, or truncated PostgreSQL tables. Tests commit for real, so a live server in another
thread sees the same data.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.core.mail import outbox
from app.extensions import db
from tests.support.csrf import csrf_from

# One live server and one Chromium for every folder that drives a browser (browser/, rp/):
# a session fixture defined in two conftest files would start a second playwright driver in
# the same thread, which its sync API refuses.
pytest_plugins = ("tests.support.browser_fixtures",)

TEST_SECRET_KEY = "test-secret-key-" + "x" * 40
DEFAULT_PASSWORD = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() == "true"
# Tables whose rows come from migrations; the per-test clean-up keeps them.
SEEDED_TABLES = {"alembic_version", "roles", "permissions", "role_permissions"}


def _env(name: str) -> str:
    return os.environ.get(f"TESSERA_TEST_{name}") or os.environ.get(f"TESSERA_{name}") or ""


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def _migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY,
                      "REDIS_URL": ""})
    with app.app_context():
        upgrade()
        db.engine.dispose()


class Database:
    """Hands each test an empty, migrated database."""

    def __init__(self, tmp_root: Path) -> None:
        self.server_url = _env("DATABASE_URL")
        self.tmp_root = tmp_root
        if self.server_url:
            # One schema per test process, so parallel runs never share tables.
            self.schema = f"tessera_test_{_worker()}_{os.getpid()}"
            engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
                    connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            finally:
                engine.dispose()
            self.url = _with_search_path(self.server_url, self.schema)
            _migrate(self.url)
            self.engine = create_engine(self.url)
        else:
            self.template = tmp_root / "template.db"
            _migrate(f"sqlite:///{self.template}")

    @property
    def kind(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def fresh_url(self, tmp_path: Path) -> str:
        if self.server_url:
            return self.url
        target = tmp_path / "tessera.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self) -> None:
        if not self.server_url:
            return
        self.engine.dispose()
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        finally:
            engine.dispose()

    def clean(self) -> None:
        if not self.server_url:
            return
        with self.engine.begin() as connection:
            tables = connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": self.schema}).scalars().all()
            names = ", ".join(f'"{name}"' for name in tables if name not in SEEDED_TABLES)
            if names:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
            # Migrations seed the system roles; anything a test added goes.
            connection.execute(text("DELETE FROM roles WHERE NOT is_system"))


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("db"))
    yield database
    database.drop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = _env("REDIS_URL")
    if url:
        import redis

        redis.Redis.from_url(url).ping()  # a named Redis that is down fails the run
    return url


@pytest.fixture
def app_factory(database, redis_url, tmp_path):
    """Build an app on this test's database; extra settings as keyword arguments."""
    made = []
    database_url = database.fresh_url(tmp_path)

    def make(**overrides):
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # A fresh prefix per test keeps Redis counters from leaking between tests.
            "KEY_PREFIX": f"tessera-test-{uuid.uuid4().hex[:12]}",
            "SECRET_KEY": TEST_SECRET_KEY,
            "ISSUER": "http://localhost",
            "RATELIMIT_ENABLED": True,
        }
        settings.update(overrides)
        app = create_app(settings)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        # The outbox worker (woken by any queued row) must be done before the tables are
        # emptied, or it writes into the next test's database.
        outbox.stop_worker(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    database.clean()


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user in one line: make_user(email=..., password=..., **fields)."""
    from app.core import accounts
    from app.core.context import ClientInfo

    def make(email: str | None = None, password: str = DEFAULT_PASSWORD, **fields):
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        with app.app_context():
            user = accounts.create_user(email=email, password=password,
                                        client=ClientInfo(), **fields)
            db.session.commit()
            return user.to_dict() | {"password": password}

    return make


@pytest.fixture
def query(app):
    """Run a function against the database in its own app context (for assertions)."""

    def run(fn):
        with app.app_context():
            return fn(db.session)

    return run


def fetch_csrf(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_from(response.get_data(as_text=True))


def post_form(client, path: str, data: dict, *, csrf_path: str | None = None, **kwargs):
    """Submit a form the way a browser does: load its page for the token, then post."""
    token = fetch_csrf(client, csrf_path or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email: str, password: str = DEFAULT_PASSWORD):
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
