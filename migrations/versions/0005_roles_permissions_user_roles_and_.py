"""roles, permissions, user roles and application data

Revision ID: 0005
Revises: 0004
Created: 2026-11-22 03:50:17.187848
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# Fixed ids, so documents and operators can name the system roles (modernauth's examples
# use ...0001 for admin).
ROLE_IDS = {name: uuid.UUID(int=n) for n, name in enumerate(
    ("admin", "sub-admin", "attendee", "organizer", "editor"), start=1)}
ROLES = {
    "admin": ("Full administration of Tessera.", ["*"]),
    "sub-admin": ("Manages users and reads the audit log.",
                  ["users:read", "users:write", "audit:read"]),
    "attendee": ("Buys tickets and attends events.", ["events:read", "tickets:purchase"]),
    "organizer": ("Creates and manages events.", ["events:read", "events:write"]),
    "editor": ("Reads and writes any resource.", ["*:read", "*:write"]),
}
PERMISSIONS = {
    "*": "Everything.",
    "*:read": "Read any resource.",
    "*:write": "Change any resource.",
    "users:read": "See users.",
    "users:write": "Create and change users.",
    "users:delete": "Delete users.",
    "users:impersonate": "Act as another user.",
    "audit:read": "Read the audit log.",
    "roles:read": "See roles and permissions.",
    "roles:write": "Change roles and permissions.",
    "events:read": "See events.",
    "events:write": "Create and change events.",
    "tickets:purchase": "Buy tickets.",
}


def _uuid_expression() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"


def _seed_roles_and_permissions() -> None:
    permissions = sa.table("permissions", sa.column("id", sa.Uuid()), sa.column("name"),
                           sa.column("description"))
    roles = sa.table("roles", sa.column("id", sa.Uuid()), sa.column("name"),
                     sa.column("description"), sa.column("is_system"),
                     sa.column("created_at", app.models.types.UTCDateTime()))
    links = sa.table("role_permissions", sa.column("role_id", sa.Uuid()),
                     sa.column("permission_id", sa.Uuid()))
    permission_ids = {name: uuid.uuid5(uuid.NAMESPACE_URL, f"tessera:permission:{name}")
                      for name in PERMISSIONS}
    op.bulk_insert(permissions, [{"id": permission_ids[name], "name": name,
                                  "description": text} for name, text in PERMISSIONS.items()])
    now = datetime.now(UTC)
    op.bulk_insert(roles, [{"id": ROLE_IDS[name], "name": name, "description": text,
                            "is_system": True, "created_at": now}
                           for name, (text, _) in ROLES.items()])
    op.bulk_insert(links, [{"role_id": ROLE_IDS[name], "permission_id": permission_ids[perm]}
                           for name, (_, perms) in ROLES.items() for perm in perms])


def upgrade() -> None:
    op.create_table('permissions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('roles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('role_permissions',
    sa.Column('role_id', sa.Uuid(), nullable=False),
    sa.Column('permission_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['permission_id'], ['permissions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission_id')
    )
    op.create_table('user_app_data',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_clients.client_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'application_id', 'key')
    )
    with op.batch_alter_table('user_app_data', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_app_data_user_id'), ['user_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role_id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_clients.client_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'role_id', 'application_id')
    )
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_user_id'), ['user_id'], unique=False)

    _seed_roles_and_permissions()
    # The admin flag becomes a role assignment: one source of truth for who is an admin.
    op.execute(sa.text(
        "INSERT INTO user_roles (id, user_id, role_id, application_id, created_at) "
        "SELECT " + _uuid_expression() + ", id, :admin, NULL, created_at FROM users "
        "WHERE is_admin").bindparams(sa.bindparam("admin", ROLE_IDS["admin"], sa.Uuid())))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_admin')



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_admin', sa.BOOLEAN(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_user_id'))

    op.drop_table('user_roles')
    with op.batch_alter_table('user_app_data', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_app_data_user_id'))

    op.drop_table('user_app_data')
    op.drop_table('role_permissions')
    op.drop_table('roles')
    op.drop_table('permissions')
