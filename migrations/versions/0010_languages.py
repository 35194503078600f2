"""Languages: the language each signer and subscriber used (their emails go out in it),
and petition translations (title, summary and body per language).

Written by hand.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Everyone before this signed and subscribed in English: the default says so.
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10),
                                      server_default=sa.text("'en'"), nullable=False))

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=10),
                              existing_nullable=False, server_default=sa.text("'en'"))

    op.create_table(
        'petition_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("locale <> ''", name=op.f('ck_petition_translations_locale_not_empty')),
        sa.CheckConstraint("title <> ''", name=op.f('ck_petition_translations_title_not_empty')),
        sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'],
                                name=op.f('fk_petition_translations_petition_id_petitions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_translations')),
        sa.UniqueConstraint('petition_id', 'locale', name='uq_petition_translations_locale'),
    )
    op.create_index('ix_petition_translations_petition_id', 'petition_translations',
                    ['petition_id'], unique=False)


def downgrade():
    op.drop_index('ix_petition_translations_petition_id', table_name='petition_translations')
    op.drop_table('petition_translations')

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=10),
                              existing_nullable=False, server_default=None)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('locale')
