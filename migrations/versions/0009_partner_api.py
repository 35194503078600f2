"""Partner API: API keys get a scope (articles or partner) and their own rate limit;
a signature records the partner key that submitted it.

Written by hand.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        # Existing keys were article-ingest keys: the default keeps them working.
        batch_op.add_column(sa.Column('scope', sa.String(length=20),
                                      server_default=sa.text("'articles'"), nullable=False))
        batch_op.add_column(sa.Column('rate_limit', sa.String(length=100),
                                      server_default=sa.text("'60/minute'"), nullable=False))
        batch_op.create_check_constraint('scope_known', "scope IN ('articles', 'partner')")
        batch_op.create_check_constraint('rate_limit_not_empty', "rate_limit <> ''")

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_signatures_api_key_id', ['api_key_id'], unique=False)
        batch_op.create_foreign_key('fk_signatures_api_key_id_api_keys', 'api_keys',
                                    ['api_key_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint('fk_signatures_api_key_id_api_keys', type_='foreignkey')
        batch_op.drop_index('ix_signatures_api_key_id')
        batch_op.drop_column('api_key_id')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_constraint('ck_api_keys_rate_limit_not_empty', type_='check')
        batch_op.drop_constraint('ck_api_keys_scope_known', type_='check')
        batch_op.drop_column('rate_limit')
        batch_op.drop_column('scope')
