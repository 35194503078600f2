"""Abuse and privacy: flagged signatures, hashed IPs, anonymised signatures; allow and
block rules; abuse alerts.

Written by hand.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('flag_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('flagged_never_counted', 'NOT (flagged AND counted)')

    op.create_table(
        'access_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('pattern', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('block', 'allow')", name=op.f('ck_access_rules_action_known')),
        sa.CheckConstraint("kind IN ('email_domain', 'ip', 'email')",
                           name=op.f('ck_access_rules_kind_known')),
        sa.ForeignKeyConstraint(['created_by_id'], ['admin_users.id'],
                                name=op.f('fk_access_rules_created_by_id_admin_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_rules')),
        sa.UniqueConstraint('kind', 'pattern', name='uq_access_rules_kind_pattern'),
    )
    op.create_table(
        'abuse_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=254), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('ip', 'email_domain')", name=op.f('ck_abuse_alerts_kind_known')),
        sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'],
                                name=op.f('fk_abuse_alerts_petition_id_petitions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_abuse_alerts')),
        sa.UniqueConstraint('petition_id', 'kind', 'value', 'hour', name='uq_abuse_alerts_key'),
    )


def downgrade():
    op.drop_table('abuse_alerts')
    op.drop_table('access_rules')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_signatures_flagged_never_counted'), type_='check')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('flag_reason')
        batch_op.drop_column('flagged')
        batch_op.drop_column('ip_hash')
