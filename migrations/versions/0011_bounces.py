"""Bounces (placeholder: filled in by the issue 11 work).

Revision ID: 0011
Revises: 0010
"""

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
