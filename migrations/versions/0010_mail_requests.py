"""signed-out requests for account mail, carried out by the outbox worker

Revision ID: 0010
Revises: 0009
Created: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', app.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mail_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_requests_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index('ix_mail_requests_due', ['status', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_requests_due')
        batch_op.drop_index(batch_op.f('ix_mail_requests_created_at'))
    op.drop_table('mail_requests')
