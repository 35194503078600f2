"""Digest chunks: each chunk of a digest run as handed to the workers, so that a chunk
whose task the broker lost is queued again by the sweep (digests.resume).

Written by hand.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

WAITING = sa.text("done_at IS NULL")


def upgrade():
    op.create_table(
        'digest_chunks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=False),
        sa.Column('last_id', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('first_id <= last_id', name=op.f('ck_digest_chunks_bounds_ordered')),
        sa.ForeignKeyConstraint(['run_id'], ['digest_runs.id'], ondelete='CASCADE',
                                name=op.f('fk_digest_chunks_run_id_digest_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_chunks')),
        sa.UniqueConstraint('run_id', 'first_id', 'last_id', name='uq_digest_chunks_bounds'),
    )
    with op.batch_alter_table('digest_chunks', schema=None) as batch_op:
        batch_op.create_index('ix_digest_chunks_waiting', ['queued_at'], unique=False,
                              sqlite_where=WAITING, postgresql_where=WAITING)
    # Runs fanned out before this table existed have no chunks to resume: their chunks
    # were queued (or lost) under the old scheme, and rerunning the period still works.


def downgrade():
    with op.batch_alter_table('digest_chunks', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_chunks_waiting')
    op.drop_table('digest_chunks')
