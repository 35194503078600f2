"""Bounces: soft-bounce streaks per mailbox, and "soft_bounce" as a suppression reason.

Written by hand.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'soft_bounce_streaks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('canonical_email', sa.String(length=254), nullable=False),
        sa.Column('bounces', sa.Integer(), nullable=False),
        sa.Column('last_outbox_id', sa.Integer(), nullable=True),
        sa.Column('last_status', sa.String(length=20), nullable=True),
        sa.Column('last_detail', sa.Text(), nullable=True),
        sa.Column('last_bounced_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('bounces >= 0', name=op.f('ck_soft_bounce_streaks_bounces_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_soft_bounce_streaks')),
        sa.UniqueConstraint('canonical_email', name=op.f('uq_soft_bounce_streaks_canonical_email')),
    )
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppressions_reason_known'), type_='check')
        batch_op.create_check_constraint(
            'reason_known', "reason IN ('hard_bounce', 'complaint', 'manual', 'soft_bounce')")


def downgrade():
    # The old constraint has no room for them: soft-bounce suppressions become hard ones.
    op.execute("UPDATE suppressions SET reason = 'hard_bounce' WHERE reason = 'soft_bounce'")
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppressions_reason_known'), type_='check')
        batch_op.create_check_constraint(
            'reason_known', "reason IN ('hard_bounce', 'complaint', 'manual')")
    op.drop_table('soft_bounce_streaks')
