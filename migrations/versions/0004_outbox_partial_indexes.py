"""Partial outbox indexes, so that marking a message sent touches fewer indexes.

Written by hand.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")
SENDING = sa.text("state = 'sending'")
HAS_SIGNATURE = sa.text("signature_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index('ix_outbox_signature_id')
        batch_op.create_index('ix_outbox_due', ['next_attempt_at'], unique=False,
                              sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.create_index('ix_outbox_claimed', ['claimed_at'], unique=False,
                              sqlite_where=SENDING, postgresql_where=SENDING)
        batch_op.create_index('ix_outbox_signature_id', ['signature_id'], unique=False,
                              sqlite_where=HAS_SIGNATURE, postgresql_where=HAS_SIGNATURE)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_signature_id')
        batch_op.drop_index('ix_outbox_claimed')
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_signature_id', ['signature_id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['state', 'next_attempt_at'], unique=False)
