"""The `tessera` console script. Its command forms are a contract users and scripts rely on."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager

import click

from app.core.errors import TesseraError


def _make_app(**overrides):
    from app import create_app
    from config.settings import ConfigError

    try:
        return create_app(overrides or None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _app_context(**overrides):
    app = _make_app(**overrides)
    with app.app_context():
        yield app


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tessera: an OAuth 2.0 / OpenID Connect identity provider."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (applies migrations itself on the embedded SQLite)."""
    overrides = {}
    if not os.environ.get("TESSERA_ISSUER"):
        overrides["ISSUER"] = f"http://{host}:{port}"
    app = _make_app(**overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _upgrade()
    click.echo(f"Tessera is listening on http://{host}:{port} (issuer {app.config['ISSUER']})")
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)


@main.group()
def db() -> None:
    """Database schema."""


def _upgrade() -> None:
    from flask_migrate import upgrade

    upgrade()


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    with _app_context():
        _upgrade()
    click.echo("database is up to date")


@main.group()
def users() -> None:
    """People with accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--username", default=None)
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--admin", is_flag=True, help="Give the user administrator rights.")
@click.option("--verified", is_flag=True, help="Mark the email address as verified.")
def users_create(email, password, username, first_name, last_name, admin, verified) -> None:
    """Create a user and print it as JSON."""
    from app.core import accounts
    from app.core.context import ClientInfo
    from app.extensions import db as database

    with _app_context():
        try:
            user = accounts.create_user(
                email=email, password=password, username=username, first_name=first_name,
                last_name=last_name, email_verified=verified, is_admin=admin,
                client=ClientInfo(user_agent="tessera-cli"),
            )
            database.session.commit()
        except TesseraError as error:
            database.session.rollback()
            where = f" ({error.field})" if error.field else ""
            _fail(f"{error.code}{where}: {error.message}")
        click.echo(json.dumps(user.to_dict(), indent=2))


if __name__ == "__main__":
    main()
