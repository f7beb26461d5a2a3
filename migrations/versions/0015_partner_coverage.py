"""partner coverage: the countries and verticals each partner serves, ranked by tier, by index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

A customer who asks us to recommend a partner is given the best partners for their country and
vertical: these rows let the routing read the first few of an index instead of every partner.
Existing partners' rows are filled from their countries, verticals and tier.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The tiers as they stood at this revision, best first (the app's own list may grow later).
TIERS = ('platinum', 'gold', 'silver', 'registered')


def _listed(value):
    if isinstance(value, str):
        value = json.loads(value or '[]')
    return value or []


def upgrade():
    coverage = op.create_table('partner_coverage',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=120), nullable=False),
    sa.Column('tier_rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_coverage_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'kind', 'value', name=op.f('pk_partner_coverage'))
    )
    with op.batch_alter_table('partner_coverage', schema=None) as batch_op:
        batch_op.create_index('ix_partner_coverage_ranked', ['kind', 'value', 'tier_rank', 'partner_id'], unique=False)

    partners = sa.table('partners', sa.column('id'), sa.column('countries'), sa.column('verticals'), sa.column('tier'))
    rows = []
    for pid, countries, verticals, tier in op.get_bind().execute(
        sa.select(partners.c.id, partners.c.countries, partners.c.verticals, partners.c.tier)
    ):
        rank = TIERS.index(tier) if tier in TIERS else len(TIERS) - 1
        found = {('any', ''): rank}
        found.update({('country', c.strip().casefold()): rank for c in _listed(countries) if c.strip()})
        found.update({('vertical', v.strip().casefold()): rank for v in _listed(verticals) if v.strip()})
        rows += [dict(partner_id=pid, kind=k, value=v, tier_rank=r) for (k, v), r in found.items()]
    if rows:
        op.bulk_insert(coverage, rows)


def downgrade():
    with op.batch_alter_table('partner_coverage', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_coverage_ranked')

    op.drop_table('partner_coverage')
