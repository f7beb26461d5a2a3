"""partner coverage by country and vertical together, of active partners only

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

A recommendation reads the partners covering the account's country and serving its vertical first.
That group was read by walking every partner of the country and looking up each one's verticals,
and every row was joined to its partner to leave out the inactive ones. Coverage now has a row per
country and vertical a partner serves together ("pair"), and only active partners have rows, so
each group is the front of one index. The value column grows to hold a country and a vertical.
Every partner's rows are written again from its countries, verticals, tier and whether it is active.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The tiers as they stood at this revision, best first, and how a pair's country and vertical are joined.
TIERS = ('platinum', 'gold', 'silver', 'registered')
PAIR_JOIN = '\x1f'


def _listed(value):
    if isinstance(value, str):
        value = json.loads(value or '[]')
    return value or []


def _rows(pid, countries, verticals, tier, active, pairs):
    if not active:
        return []
    rank = TIERS.index(tier) if tier in TIERS else len(TIERS) - 1
    countries = {c.strip().casefold() for c in _listed(countries) if c.strip()}
    verticals = {v.strip().casefold() for v in _listed(verticals) if v.strip()}
    found = {('any', ''): rank}
    found.update({('country', c): rank for c in countries})
    found.update({('vertical', v): rank for v in verticals})
    if pairs:
        found.update({('pair', f'{c}{PAIR_JOIN}{v}'): rank for c in countries for v in verticals})
    return [dict(partner_id=pid, kind=k, value=v, tier_rank=r) for (k, v), r in found.items()]


def _rewrite(pairs):
    coverage = sa.table(
        'partner_coverage', sa.column('partner_id'), sa.column('kind'), sa.column('value'), sa.column('tier_rank')
    )
    partners = sa.table(
        'partners', sa.column('id'), sa.column('countries'), sa.column('verticals'), sa.column('tier'),
        sa.column('is_active'),
    )
    bind = op.get_bind()
    bind.execute(coverage.delete())
    rows = []
    for pid, countries, verticals, tier, active in bind.execute(
        sa.select(partners.c.id, partners.c.countries, partners.c.verticals, partners.c.tier, partners.c.is_active)
    ):
        rows += _rows(pid, countries, verticals, tier, active if pairs else True, pairs)
    if rows:
        op.bulk_insert(coverage, rows)


def upgrade():
    with op.batch_alter_table('partner_coverage', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sa.String(length=120), type_=sa.String(length=250),
                              existing_nullable=False)
    _rewrite(pairs=True)


def downgrade():
    _rewrite(pairs=False)
    with op.batch_alter_table('partner_coverage', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sa.String(length=250), type_=sa.String(length=120),
                              existing_nullable=False)
