"""rate limit counts, shared by every app server through the database

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

The API's requests per token were counted in each process unless Redis was configured, so several
app servers each allowed the whole limit. The counts now live in the database by default: a row per
limit's key with the hits of its current window and when the window ends (seconds since the epoch).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_counts',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counts'))
    )
    with op.batch_alter_table('rate_limit_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counts_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counts_expires_at'))

    op.drop_table('rate_limit_counts')
