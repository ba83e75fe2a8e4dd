"""client secret kept encrypted for client_secret_jwt

Revision ID: 0004
Revises: 0003
Created: 2026-11-22 03:37:26.069608
"""

import sqlalchemy as sa
from alembic import op

import app.models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_ciphertext', sa.LargeBinary(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('secret_ciphertext')

