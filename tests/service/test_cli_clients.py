"""`tessera clients ...` and `tessera keys ...`, run in-process against the test database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from app.core import clients
from app.extensions import db
from app.models import SigningKey
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def tessera(app):
    """Invoke `tessera ...` with the environment a user would give it; returns the Result."""
    runner = CliRunner()
    env = {"TESSERA_DATABASE_URL": app.config["DATABASE_URL"],
           "TESSERA_SECRET_KEY": TEST_SECRET_KEY, "TESSERA_REDIS_URL": "",
           "TESSERA_ISSUER": app.config["ISSUER"]}

    def run(*args: str):
        return runner.invoke(main, list(args), env=env)

    return run


def create(tessera, *extra: str):
    return tessera("clients", "create", "--name", "Demo", "--redirect-uri",
                   "https://rp.example.com/cb", *extra)


def test_clients_create_prints_id_and_secret_as_json(tessera, app):
    result = create(tessera, "--redirect-uri", "http://127.0.0.1/cb",
                    "--post-logout-redirect-uri", "https://rp.example.com/bye",
                    "--scope", "openid email", "--skip-consent", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["client_secret"] and printed["client_id"]
    assert printed["redirect_uris"] == ["https://rp.example.com/cb", "http://127.0.0.1/cb"]
    assert printed["post_logout_redirect_uris"] == ["https://rp.example.com/bye"]
    assert printed["scope"] == "openid email" and printed["skip_consent"] is True
    assert "secret_digest" not in printed
    with app.app_context():
        client = clients.get_client(printed["client_id"])
        assert clients.verify_secret(client, printed["client_secret"])


def test_clients_create_without_json_prints_a_readable_summary(tessera):
    result = create(tessera)
    assert result.exit_code == 0, result.output
    assert "client_id:" in result.stdout and "client_secret:" in result.stdout
    assert "shown once" in result.stdout


def test_public_clients_get_no_secret(tessera):
    result = create(tessera, "--public", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["client_secret"] is None
    assert printed["token_endpoint_auth_method"] == "none"


def test_grant_types_and_auth_method_options(tessera):
    result = tessera("clients", "create", "--name", "Worker", "--grant-type",
                     "client_credentials", "--auth-method", "client_secret_post", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["grant_types"] == ["client_credentials"]
    assert printed["token_endpoint_auth_method"] == "client_secret_post"


@pytest.mark.parametrize("extra, message", [
    (("--redirect-uri", "javascript:alert(1)"), "validation (redirect_uri)"),
    (("--redirect-uri", "http://rp.example.com/cb"), "validation (redirect_uri)"),
    (("--grant-type", "password"), "validation (grant_type)"),
    (("--auth-method", "magic"), "validation (auth_method)"),
])
def test_bad_input_exits_non_zero_with_a_one_line_reason(tessera, extra, message):
    result = create(tessera, *extra)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_list_show_rotate_and_delete(tessera, app):
    client_id = json.loads(create(tessera, "--json").stdout)["client_id"]
    listed = tessera("clients", "list", "--json")
    assert [row["client_id"] for row in json.loads(listed.stdout)] == [client_id]
    assert client_id in tessera("clients", "list").stdout
    shown = tessera("clients", "show", client_id)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["client_name"] == "Demo"

    rotated = tessera("clients", "rotate-secret", client_id)
    assert rotated.exit_code == 0, rotated.output
    secret = json.loads(rotated.stdout)["client_secret"]
    with app.app_context():
        assert clients.verify_secret(clients.get_client(client_id), secret)

    assert tessera("clients", "delete", client_id).exit_code == 0
    assert tessera("clients", "list", "--json").stdout.strip() == "[]"
    for command in ("show", "delete", "rotate-secret"):
        missing = tessera("clients", command, client_id)
        assert missing.exit_code == 1 and "not_found" in missing.stderr


def test_keys_list_and_rotate(tessera, app):
    listed = tessera("keys", "list")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == 6 and all("private" not in json.dumps(row) for row in rows)
    assert {row["state"] for row in rows} == {"active", "next"}

    one = tessera("keys", "rotate", "--alg", "EdDSA")
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["rotated"] == ["EdDSA"]
    everything = tessera("keys", "rotate")
    assert sorted(json.loads(everything.stdout)["rotated"]) == ["ES256", "EdDSA", "RS256"]
    due = tessera("keys", "rotate", "--if-due")
    assert json.loads(due.stdout) == {"rotated": [], "dropped": []}
    with app.app_context():
        states = list(db.session.scalars(select(SigningKey.state)))
    assert states.count("retired") == 4 and states.count("active") == 3

    assert tessera("keys", "rotate", "--alg", "HS256").exit_code != 0
