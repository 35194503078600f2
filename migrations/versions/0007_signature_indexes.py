"""Indexes for counts by state, and for moderation's date and IP searches; on
PostgreSQL, statistics that let the per-day count plan a parallel aggregate.

Written by hand.

Revision ID: 0007
Revises: 0006
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_petition_state', ['petition_id', 'state'], unique=False)
        batch_op.create_index('ix_signatures_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_signatures_ip_address', ['ip_address'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Without them the planner expects millions of days and skips parallelism.
        op.execute("CREATE STATISTICS IF NOT EXISTS signatures_confirmed_day "
                   "ON (date(timezone('UTC', confirmed_at))) FROM signatures")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP STATISTICS IF EXISTS signatures_confirmed_day")
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_ip_address')
        batch_op.drop_index('ix_signatures_created_at')
        batch_op.drop_index('ix_signatures_petition_state')
