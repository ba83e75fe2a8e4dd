"""outbound sms, phone verification, one-time token address, sign-up links

Revision ID: 0007
Revises: 0006
Created: 2026-11-22 07:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbound_sms',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('to', sa.String(length=32), nullable=False),
    sa.Column('text', sa.String(length=480), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', app.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_sms_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_outbound_sms_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.alter_column('email', new_column_name='address',
                              existing_type=sa.String(length=254), existing_nullable=False)
        batch_op.alter_column('user_id', existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM one_time_tokens WHERE user_id IS NULL")
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column('address', new_column_name='email',
                              existing_type=sa.String(length=254), existing_nullable=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_verified')

    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_sms_due')
        batch_op.drop_index(batch_op.f('ix_outbound_sms_created_at'))

    op.drop_table('outbound_sms')
