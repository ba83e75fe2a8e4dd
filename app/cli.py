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
    from app.core import accounts, rbac
    from app.core.context import ClientInfo
    from app.extensions import db as database

    with _app_context():
        try:
            user = accounts.create_user(
                email=email, password=password, username=username, first_name=first_name,
                last_name=last_name, email_verified=verified, roles=("admin",) if admin else (),
                client=ClientInfo(user_agent="tessera-cli"),
            )
            database.session.commit()
        except TesseraError as error:
            database.session.rollback()
            where = f" ({error.field})" if error.field else ""
            _fail(f"{error.code}{where}: {error.message}")
        click.echo(json.dumps(user.to_dict() | {"roles": rbac.role_names(user)}, indent=2))


def _core_failure(error: TesseraError) -> None:
    where = f" ({error.field})" if error.field else ""
    _fail(f"{error.code}{where}: {error.message}")


@main.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256", "EdDSA"]), default=None,
              help="Rotate one algorithm only (default: all).")
@click.option("--if-due", is_flag=True,
              help="Only rotate keys older than TESSERA_KEY_ROTATION_DAYS, and delete "
                   "retired keys past their grace period (for a daily cron job).")
def keys_rotate(alg, if_due) -> None:
    """Make each next key active, retire the active one, and create a new next key."""
    from app.core import keys as signing
    from app.extensions import db as database

    if if_due and alg:
        _fail("--alg and --if-due cannot be combined")
    with _app_context():
        if if_due:
            result = signing.rotate_if_due()
        else:
            activated = signing.rotate(alg)
            result = {"rotated": [row.alg for row in activated], "dropped": []}
        database.session.commit()
        click.echo(json.dumps(result, indent=2))


@keys.command("list")
def keys_list() -> None:
    """Print every stored signing key (metadata only) as JSON."""
    from app.core import keys as signing
    from app.extensions import db as database

    with _app_context():
        if signing.ensure_keys():
            database.session.commit()
        click.echo(json.dumps([row.to_dict() for row in signing.list_keys()], indent=2))


@main.group()
def clients() -> None:
    """OAuth clients (relying parties)."""


def _print_client(data: dict, secret: str | None = None) -> None:
    click.echo(f"client_id:      {data['client_id']}")
    if secret:
        click.echo(f"client_secret:  {secret}   (shown once; store it now)")
    click.echo(f"name:           {data['client_name']}")
    click.echo(f"auth method:    {data['token_endpoint_auth_method']}")
    click.echo(f"grant types:    {' '.join(data['grant_types'])}")
    click.echo(f"scope:          {data['scope']}")
    for uri in data["redirect_uris"]:
        click.echo(f"redirect URI:   {uri}")
    for uri in data["post_logout_redirect_uris"]:
        click.echo(f"logout URI:     {uri}")
    click.echo(f"skip consent:   {'yes' if data['skip_consent'] else 'no'}")


@clients.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--grant-type", "grant_types", multiple=True,
              help="Repeatable. Default: authorization_code and refresh_token.")
@click.option("--scope", default="openid profile email offline_access", show_default=True)
@click.option("--public", is_flag=True, help="A public client (SPA, native app): no secret.")
@click.option("--auth-method", default=None,
              help="Token endpoint auth method (default client_secret_basic, or none).")
@click.option("--skip-consent", is_flag=True, help="First-party app: never ask for consent.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def clients_create(name, redirect_uris, post_logout_redirect_uris, grant_types, scope, public,
                   auth_method, skip_consent, as_json) -> None:
    """Register a client and print its id and (once) its secret."""
    from app.core import clients as registry
    from app.extensions import db as database

    with _app_context():
        try:
            client, secret = registry.create_client(
                name, redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
                grant_types=grant_types or ("authorization_code", "refresh_token"),
                scope=scope, public=public, auth_method=auth_method,
                skip_consent=skip_consent,
            )
            database.session.commit()
        except TesseraError as error:
            database.session.rollback()
            _core_failure(error)
        data = client.to_dict()
        if as_json:
            click.echo(json.dumps(data | {"client_secret": secret}, indent=2))
        else:
            _print_client(data, secret)


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def clients_list(as_json) -> None:
    """List registered clients."""
    from app.core import clients as registry

    with _app_context():
        rows = [client.to_dict() for client in registry.list_clients()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no clients")
    for row in rows:
        kind = "public" if row["public"] else row["token_endpoint_auth_method"]
        click.echo(f"{row['client_id']}  {row['client_name']}  ({kind})")


@clients.command("show")
@click.argument("client_id")
def clients_show(client_id) -> None:
    """Print one client as JSON."""
    from app.core import clients as registry

    with _app_context():
        client = registry.get_client(client_id)
        if client is None:
            _fail(f"not_found (client_id): no client {client_id}")
        click.echo(json.dumps(client.to_dict(), indent=2))


@clients.command("delete")
@click.argument("client_id")
def clients_delete(client_id) -> None:
    """Delete a client and its refresh tokens."""
    from app.core import clients as registry
    from app.extensions import db as database

    with _app_context():
        try:
            registry.delete_client(client_id)
            database.session.commit()
        except TesseraError as error:
            database.session.rollback()
            _core_failure(error)
    click.echo(f"deleted client {client_id}")


@clients.command("rotate-secret")
@click.argument("client_id")
def clients_rotate_secret(client_id) -> None:
    """Give a client a new secret (printed once); the old one stops working at once."""
    from app.core import clients as registry
    from app.extensions import db as database

    with _app_context():
        try:
            secret = registry.rotate_secret(client_id)
            database.session.commit()
        except TesseraError as error:
            database.session.rollback()
            _core_failure(error)
    click.echo(json.dumps({"client_id": client_id, "client_secret": secret}, indent=2))


@main.group()
def mail() -> None:
    """Outbound mail."""


@mail.command("deliver")
def mail_deliver() -> None:
    """Carry out recorded mail requests, then deliver every due message once over SMTP
    (for cron; the server also does both itself)."""
    from app.core.mail import mail_requests, mailer

    with _app_context() as app:
        requests = mail_requests.deliver_due()
        if requests["done"] or requests["failed"]:
            click.echo(f"mail requests: {requests['done']} carried out, "
                       f"{requests['failed']} failed")
        if not app.config["SMTP_HOST"]:
            click.echo("TESSERA_SMTP_HOST is not set: messages stay in the outbox.")
            return
        counts = mailer.deliver_due()
        click.echo(f"sent {counts['sent']}, failed {counts['failed']}")


if __name__ == "__main__":
    main()
