"""trusted devices remember the newest session started on them

Revision ID: 0009
Revises: 0008
Created: 2026-11-22 08:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mfa_trusted_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mfa_trusted_devices_session_id'), ['session_id'],
                              unique=False)
        batch_op.create_foreign_key('fk_mfa_trusted_devices_session_id', 'auth_sessions',
                                    ['session_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('mfa_trusted_devices', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mfa_trusted_devices_session_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_mfa_trusted_devices_session_id'))
        batch_op.drop_column('session_id')
