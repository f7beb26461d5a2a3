"""indexes of the manager's view

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The dashboard reads deals by when they started (its period, its pipeline by quarter) and the lead
credits in force by when they were decided (its routes), and a partner's scorecard its credits of
one kind and the strengths customers stated for it: each read a whole table without these.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_deals_created_at", "deals", ["created_at"])
    op.create_index("ix_relationships_partner_id_source", "relationships", ["partner_id", "source"])
    op.create_index("ix_credits_credit_in_force_decided_at", "credits", ["credit", "in_force", "decided_at"])
    op.create_index("ix_credits_partner_id_credit_in_force", "credits", ["partner_id", "credit", "in_force"])


def downgrade():
    op.drop_index("ix_credits_partner_id_credit_in_force", table_name="credits")
    op.drop_index("ix_credits_credit_in_force_decided_at", table_name="credits")
    op.drop_index("ix_relationships_partner_id_source", table_name="relationships")
    op.drop_index("ix_deals_created_at", table_name="deals")
