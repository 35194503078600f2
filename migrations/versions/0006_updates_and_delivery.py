"""Petition updates with their delivery ledger, milestones, and deliveries to the target.

Written by hand.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NOT_MANUAL = sa.text("kind <> 'manual'")


def upgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('milestone_emails', sa.Boolean(),
                                      server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updates_stopped_at', sa.DateTime(timezone=True),
                                      nullable=True))

    op.create_table(
        'petition_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fanned_out_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('manual', 'goal_reached', 'closed')",
                           name=op.f('ck_petition_updates_kind_known')),
        sa.CheckConstraint("state IN ('draft', 'sending', 'sent')",
                           name=op.f('ck_petition_updates_state_known')),
        sa.ForeignKeyConstraint(['created_by_id'], ['admin_users.id'],
                                name=op.f('fk_petition_updates_created_by_id_admin_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'],
                                name=op.f('fk_petition_updates_petition_id_petitions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_updates')),
    )
    with op.batch_alter_table('petition_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_updates_petition_id'), ['petition_id'],
                              unique=False)
        batch_op.create_index('uq_petition_updates_milestone', ['petition_id', 'kind'],
                              unique=True, sqlite_where=NOT_MANUAL, postgresql_where=NOT_MANUAL)

    op.create_table(
        'update_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'],
                                name=op.f('fk_update_deliveries_signature_id_signatures'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['update_id'], ['petition_updates.id'],
                                name=op.f('fk_update_deliveries_update_id_petition_updates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_update_deliveries')),
        sa.UniqueConstraint('message_id', name=op.f('uq_update_deliveries_message_id')),
        sa.UniqueConstraint('update_id', 'signature_id',
                            name='uq_update_deliveries_update_signature'),
    )
    with op.batch_alter_table('update_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_deliveries_update_id'), ['update_id'],
                              unique=False)

    op.create_table(
        'petition_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('signature_count', sa.Integer(), nullable=False),
        sa.Column('target_name', sa.String(length=200), nullable=False),
        sa.Column('target_email', sa.String(length=254), nullable=True),
        sa.Column('cover_message', sa.Text(), nullable=True),
        sa.Column('delivered_by_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.CheckConstraint('signature_count >= 0',
                           name=op.f('ck_petition_deliveries_count_not_negative')),
        sa.ForeignKeyConstraint(['delivered_by_id'], ['admin_users.id'],
                                name=op.f('fk_petition_deliveries_delivered_by_id_admin_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'],
                                name=op.f('fk_petition_deliveries_petition_id_petitions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_deliveries')),
    )
    with op.batch_alter_table('petition_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_deliveries_petition_id'), ['petition_id'],
                              unique=False)


def downgrade():
    op.drop_table('petition_deliveries')
    op.drop_table('update_deliveries')
    op.drop_table('petition_updates')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('updates_stopped_at')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('milestone_emails')
        batch_op.drop_column('target_email')
