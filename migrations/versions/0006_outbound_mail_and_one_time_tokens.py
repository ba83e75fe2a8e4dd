"""outbound mail and one-time tokens

Revision ID: 0006
Revises: 0005
Created: 2026-11-22 04:44:55.422919
"""

import sqlalchemy as sa
from alembic import op

import app.models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbound_mail',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('to', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', app.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_mail_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_outbound_mail_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('one_time_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', app.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_one_time_tokens_digest'), ['digest'], unique=False)
        batch_op.create_index('ix_one_time_tokens_user_purpose', ['user_id', 'purpose'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_one_time_tokens_user_purpose')
        batch_op.drop_index(batch_op.f('ix_one_time_tokens_digest'))

    op.drop_table('one_time_tokens')
    with op.batch_alter_table('outbound_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_mail_due')
        batch_op.drop_index(batch_op.f('ix_outbound_mail_created_at'))

    op.drop_table('outbound_mail')
