"""decision snapshots, the customer's contact, the chosen partner by identity, won and lost

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Read by hand. Besides the columns:
- the customer's chosen partner moves from a row position to an identity (partner id or the
  name they typed), read from the row the old position pointed at;
- account and partner keys are recomputed with the routing engine's keys (compound legal
  forms, the registrable domain); a later change to those keys needs a migration like this;
- the status `declined`, which nothing set, becomes `ready_to_route`; a partner request that
  `expired` is now said to have `lapsed`;
- each stored decision's trace steps gain the words a partner may read (`partner_says`), empty
  for decisions made before partners had their own words: they are shown none.
"""
from alembic import op
import sqlalchemy as sa

from intake.routing.names import company_key, domain_key


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('organisation', sa.String(length=160), nullable=False),
    sa.Column('told_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_customer_contacts_deal_id_deals')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_customer_contacts_decision_id_decisions')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_customer_contacts_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_contacts'))
    )
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_contacts_deal_id'), ['deal_id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain_key', sa.String(length=253), nullable=True))
        batch_op.create_index(batch_op.f('ix_accounts_domain_key'), ['domain_key'], unique=False)

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=160), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_partners_name_key'), ['name_key'], unique=False)

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('returned_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('final_value', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('lost_reason', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_shared', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))

    with op.batch_alter_table('rules_of_engagement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recycle', sa.String(length=10), nullable=False, server_default='manual'))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('copy', existing_type=sa.String(length=10), type_=sa.String(length=24),
                              existing_nullable=False)

    with op.batch_alter_table('customer_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fulfilment_partner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fulfilment_partner_name', sa.String(length=160), nullable=False,
                                      server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_customer_answers_fulfilment_partner_id_partners'), 'partners',
                                    ['fulfilment_partner_id'], ['id'])

    connection = op.get_bind()
    _chosen_partner_by_identity(connection)
    with op.batch_alter_table('customer_answers', schema=None) as batch_op:
        batch_op.drop_column('fulfilment_row')

    for account_id, name, domain in connection.execute(sa.text("SELECT id, name, domain FROM accounts")).all():
        connection.execute(
            sa.text("UPDATE accounts SET name_key = :name_key, domain_key = :domain_key WHERE id = :id"),
            {"id": account_id, "name_key": company_key(name), "domain_key": domain_key(domain) or None},
        )
    for partner_id, name in connection.execute(sa.text("SELECT id, name FROM partners")).all():
        connection.execute(sa.text("UPDATE partners SET name_key = :key WHERE id = :id"),
                           {"id": partner_id, "key": company_key(name)})
    connection.execute(sa.text("UPDATE deals SET status = 'ready_to_route' WHERE status = 'declined'"))
    connection.execute(sa.text("UPDATE partner_requests SET response = 'lapsed' WHERE response = 'expired'"))
    _partner_words_in_stored_decisions(connection)


def _partner_words_in_stored_decisions(connection):
    decisions = sa.table("decisions", sa.column("id", sa.Integer), sa.column("output", sa.JSON),
                         sa.column("proposal", sa.JSON))
    for row in connection.execute(sa.select(decisions.c.id, decisions.c.output, decisions.c.proposal)).all():
        values = {}
        for name in ("output", "proposal"):
            stored = getattr(row, name)
            if stored and any("partner_says" not in step for step in stored.get("trace", [])):
                values[name] = {**stored, "trace": [{"partner_says": "", **step} for step in stored["trace"]]}
        if values:
            connection.execute(decisions.update().where(decisions.c.id == row.id).values(**values))


def _chosen_partner_by_identity(connection):
    answers = connection.execute(sa.text(
        "SELECT id, deal_id, fulfilment_row FROM customer_answers "
        "WHERE fulfilment = 'partner' AND fulfilment_row IS NOT NULL"
    )).all()
    for answer_id, deal_id, row in answers:
        rows = connection.execute(sa.text(
            "SELECT partner_id, partner_name FROM relationships "
            "WHERE deal_id = :deal_id AND source = 'customer' ORDER BY position, id"
        ), {"deal_id": deal_id}).all()
        if not rows:
            continue
        partner_id, partner_name = rows[min(row, len(rows) - 1)]
        connection.execute(sa.text(
            "UPDATE customer_answers SET fulfilment_partner_id = :pid, fulfilment_partner_name = :name WHERE id = :id"
        ), {"id": answer_id, "pid": partner_id, "name": "" if partner_id else (partner_name or "")})


def downgrade():
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE partner_requests SET response = 'expired' WHERE response = 'lapsed'"))
    with op.batch_alter_table('customer_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fulfilment_row', sa.Integer(), nullable=True))
    connection.execute(sa.text(
        "UPDATE customer_answers SET fulfilment_row = 0 WHERE fulfilment = 'partner'"
    ))
    with op.batch_alter_table('customer_answers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_answers_fulfilment_partner_id_partners'), type_='foreignkey')
        batch_op.drop_column('fulfilment_partner_name')
        batch_op.drop_column('fulfilment_partner_id')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('copy', existing_type=sa.String(length=24), type_=sa.String(length=10),
                              existing_nullable=False)

    with op.batch_alter_table('rules_of_engagement', schema=None) as batch_op:
        batch_op.drop_column('recycle')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('summary')
        batch_op.drop_column('reason_shared')

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_column('lost_reason')
        batch_op.drop_column('final_value')
        batch_op.drop_column('closed_on')
        batch_op.drop_column('returned_reason')
        batch_op.drop_column('lock_version')

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partners_name_key'))
        batch_op.drop_column('name_key')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_domain_key'))
        batch_op.drop_column('domain_key')

    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_contacts_deal_id'))
    op.drop_table('customer_contacts')
