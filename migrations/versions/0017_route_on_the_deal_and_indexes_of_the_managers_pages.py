"""the route on the deal, and indexes of the manager's pages

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

The dashboard counted its routes by joining each lead credit in force to its decision's fulfilment
credit, its pipeline by grouping a quarter's deals by an expression of their date, and the
customer's wait by reading each waiting deal: row by row, a quarter's worth at a time. The deal now
keeps the route of its credit in force beside it (when it was decided, who leads, who fulfils;
intake.deals.credit keeps them), and every figure is a count over a range of one of these indexes.
Deals routed before are given theirs from the credit in force: its lead credit's date and party, and
the party of the same decision's fulfilment credit (none: the vendor fulfils).

One more index the manager's pages lacked: the partner requests still awaited, by deadline (the
dashboard and the responses queue read every routed deal's requests to find the next 50).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deals', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('route_leader', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('route_fulfiller', sa.String(length=10), nullable=True))
    _route_of_the_credit_in_force()
    with op.batch_alter_table('deals', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.create_index('ix_deals_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(
            'ix_deals_route_leader_route_fulfiller_routed_at', ['route_leader', 'route_fulfiller', 'routed_at'],
            unique=False,
        )
        batch_op.create_index(
            'ix_deals_status_route_leader_route_fulfiller', ['status', 'route_leader', 'route_fulfiller'],
            unique=False,
        )
        batch_op.create_index('ix_deals_status_status_changed_at', ['status', 'status_changed_at'], unique=False)
    with op.batch_alter_table('partner_requests', schema=None) as batch_op:
        batch_op.create_index('ix_partner_requests_response_expires_at_id', ['response', 'expires_at', 'id'],
                              unique=False)


def _route_of_the_credit_in_force():
    deals = sa.table('deals', sa.column('id'), sa.column('routed_at'), sa.column('route_leader'),
                     sa.column('route_fulfiller'))

    def credits(alias):
        return sa.table('credits', sa.column('deal_id'), sa.column('decision_id'), sa.column('party'),
                        sa.column('credit'), sa.column('in_force'), sa.column('decided_at')).alias(alias)

    lead, fulfils = credits('lead'), credits('fulfils')
    fulfiller = (
        sa.select(fulfils.c.party)
        .where(fulfils.c.decision_id == lead.c.decision_id, fulfils.c.credit == 'fulfilment')
        .limit(1)
        .scalar_subquery()
    )
    # UPDATE … FROM the lead credits in force (SQLite 3.33 and PostgreSQL): read from the lead credits' own
    # index, each deal found by its key; a correlated subquery per deal would scan them once per deal.
    op.execute(
        deals.update()
        .where(lead.c.deal_id == deals.c.id, lead.c.credit == 'lead', lead.c.in_force == sa.true())
        .values(routed_at=lead.c.decided_at, route_leader=lead.c.party,
                route_fulfiller=sa.func.coalesce(fulfiller, 'vendor'))
    )


def downgrade():
    with op.batch_alter_table('partner_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_requests_response_expires_at_id')
    with op.batch_alter_table('deals', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_index('ix_deals_status_status_changed_at')
        batch_op.drop_index('ix_deals_status_route_leader_route_fulfiller')
        batch_op.drop_index('ix_deals_route_leader_route_fulfiller_routed_at')
        batch_op.drop_index('ix_deals_status_created_at')
        batch_op.drop_column('route_fulfiller')
        batch_op.drop_column('route_leader')
        batch_op.drop_column('routed_at')
