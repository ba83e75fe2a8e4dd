"""Alembic environment: migrates the database of the running Tessera app (flask-migrate)."""

from alembic import context
from flask import current_app

from app.core import db_deadlines
from app.extensions import db

metadata = db.metadata
# render_as_batch lets ALTERs run on SQLite, which rebuilds tables to change them.
options = {"target_metadata": metadata, "render_as_batch": True, "compare_type": True}


def run_offline() -> None:
    context.configure(url=str(db.engine.url), literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    # A migration may rewrite a large table: the request timeouts do not apply to it.
    with db.engine.connect() as connection, db_deadlines.unbounded(connection):
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


if current_app and context.is_offline_mode():
    run_offline()
else:
    run_online()
