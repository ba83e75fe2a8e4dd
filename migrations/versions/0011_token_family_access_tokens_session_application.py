"""access tokens remembered beside their refresh token; the application a session's login
named; data in a user's own space; one row per role held everywhere; one-time tokens
indexed by address

Revision ID: 0011
Revises: 0010
Created: 2026-12-02 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_NULL_APPLICATION = sa.text("application_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_token_jti', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('access_token_expires_at',
                                      app.models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.String(length=64), nullable=True))

    with op.batch_alter_table('user_app_data', schema=None) as batch_op:
        batch_op.alter_column('application_id', existing_type=sa.String(length=64),
                              nullable=True)
        batch_op.create_index('uq_user_app_data_own_key', ['user_id', 'key'], unique=True,
                              sqlite_where=_NULL_APPLICATION,
                              postgresql_where=_NULL_APPLICATION)

    # Concurrent assignments may have left a role held everywhere twice: keep the oldest.
    op.execute(sa.text(
        "DELETE FROM user_roles WHERE application_id IS NULL AND EXISTS ("
        "SELECT 1 FROM user_roles AS other WHERE other.application_id IS NULL "
        "AND other.user_id = user_roles.user_id AND other.role_id = user_roles.role_id "
        "AND (other.created_at < user_roles.created_at OR (other.created_at = "
        "user_roles.created_at AND other.id < user_roles.id)))"))
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index('uq_user_roles_everywhere', ['user_id', 'role_id'], unique=True,
                              sqlite_where=_NULL_APPLICATION,
                              postgresql_where=_NULL_APPLICATION)

    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_one_time_tokens_address'), ['address'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_one_time_tokens_address'))

    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index('uq_user_roles_everywhere')

    op.execute(sa.text("DELETE FROM user_app_data WHERE application_id IS NULL"))
    with op.batch_alter_table('user_app_data', schema=None) as batch_op:
        batch_op.drop_index('uq_user_app_data_own_key')
        batch_op.alter_column('application_id', existing_type=sa.String(length=64),
                              nullable=False)

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('application_id')

    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('access_token_expires_at')
        batch_op.drop_column('access_token_jti')
