"""Digest ledger rows no longer point at their outbox row (the outbox row names its run).

Written by hand.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_digest_deliveries_outbox_id_outbox', type_='foreignkey')
        batch_op.drop_column('outbox_id')


def downgrade():
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbox_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_digest_deliveries_outbox_id_outbox', 'outbox', ['outbox_id'], ['id'],
            ondelete='SET NULL',
        )
