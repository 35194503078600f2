"""Admin: accounts, login throttles, the audit log; archived, hidden and removed
petitions; invalidated signatures.

Written by hand.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SIGNATURE_TIMES_OLD = "(state = 'confirmed') = (confirmed_at IS NOT NULL)"
SIGNATURE_TIMES_NEW = ("(state = 'confirmed' AND confirmed_at IS NOT NULL)"
                       " OR (state = 'pending' AND confirmed_at IS NULL) OR state = 'invalidated'")


def upgrade():
    op.create_table(
        'admin_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('totp_secret', sa.String(length=64), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('session_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'moderator')", name=op.f('ck_admin_users_role_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
        sa.UniqueConstraint('email', name=op.f('uq_admin_users_email')),
    )
    op.create_table(
        'login_throttles',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles')),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_email', sa.String(length=254), nullable=True),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('target_type', sa.String(length=40), nullable=True),
        sa.Column('target_id', sa.String(length=80), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['admin_users.id'],
                                name=op.f('fk_audit_log_actor_id_admin_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_log_action', ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)

    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('removal_reason', sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f('ck_petitions_state_known'), type_='check')
        batch_op.create_check_constraint(
            'state_known', "state IN ('draft', 'open', 'closed', 'archived')")

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('state', type_=sa.String(length=12),
                              existing_type=sa.String(length=10), existing_nullable=False)
        batch_op.add_column(sa.Column('invalidated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invalidation_reason', sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f('ck_signatures_state_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_signatures_confirmed_has_time'), type_='check')
        batch_op.create_check_constraint(
            'state_known', "state IN ('pending', 'confirmed', 'invalidated')")
        batch_op.create_check_constraint('confirmed_has_time', SIGNATURE_TIMES_NEW)
        batch_op.create_check_constraint(
            'invalidated_has_time', "(state = 'invalidated') = (invalidated_at IS NOT NULL)")


def downgrade():
    op.execute("DELETE FROM signatures WHERE state = 'invalidated'")
    op.execute("UPDATE petitions SET state = 'closed' WHERE state = 'archived'")
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_signatures_invalidated_has_time'), type_='check')
        batch_op.drop_constraint(op.f('ck_signatures_confirmed_has_time'), type_='check')
        batch_op.drop_constraint(op.f('ck_signatures_state_known'), type_='check')
        batch_op.create_check_constraint('state_known', "state IN ('pending', 'confirmed')")
        batch_op.create_check_constraint('confirmed_has_time', SIGNATURE_TIMES_OLD)
        batch_op.drop_column('invalidation_reason')
        batch_op.drop_column('invalidated_at')
        batch_op.alter_column('state', type_=sa.String(length=10),
                              existing_type=sa.String(length=12), existing_nullable=False)
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_petitions_state_known'), type_='check')
        batch_op.create_check_constraint('state_known', "state IN ('draft', 'open', 'closed')")
        batch_op.drop_column('removal_reason')
        batch_op.drop_column('removed_at')
        batch_op.drop_column('hidden')
    op.drop_table('audit_log')
    op.drop_table('login_throttles')
    op.drop_table('admin_users')
