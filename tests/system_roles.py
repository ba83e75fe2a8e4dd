"""Put the migration-seeded system roles back when a test finds them gone.

Workaround: on PostgreSQL, conftest's Database.clean() TRUNCATEs every table but
alembic_version after each test, so the roles and permissions migration 0005 seeds exist
only for the first test of a session. (SQLite tests start from a copy of the migrated
file and are unaffected.) This re-runs the migration's own seed function, so there is no
second copy of the data; drop it once clean() keeps seeded rows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role

MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "versions" \
    / "0005_roles_permissions_user_roles_and_.py"


def restore_system_roles(app) -> None:
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Role)):
            return
        db.session.remove()
        spec = importlib.util.spec_from_file_location("tessera_migration_0005", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        with db.engine.begin() as connection:
            with Operations.context(MigrationContext.configure(connection)):
                migration._seed_roles_and_permissions()
