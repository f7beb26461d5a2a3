"""one account per registrable domain; deal ids are never reused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

- The registrable domain (`accounts.domain_key`) becomes unique: two reps creating the same
  company at once, by `acme.com` and `eu.acme.com`, make one account, the second told to use
  it. A database that already holds two accounts of one registrable domain must have them
  merged first; the upgrade stops and names them.
- A draft can now be discarded, and the deal history is kept by deal id. SQLite, without
  AUTOINCREMENT, gives the highest deleted id to the next new row, so a new deal would show the
  discarded draft's history. PostgreSQL's sequences never reuse an id: nothing changes there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    twins = connection.execute(sa.text(
        "SELECT domain_key, COUNT(*) FROM accounts WHERE domain_key IS NOT NULL "
        "GROUP BY domain_key HAVING COUNT(*) > 1"
    )).all()
    if twins:
        names = ", ".join(key for key, _ in twins)
        raise RuntimeError(f"accounts share a registrable domain; merge them, then upgrade again: {names}")
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_domain_key'))
        batch_op.create_unique_constraint(batch_op.f('uq_accounts_domain_key'), ['domain_key'])
    if connection.dialect.name == "sqlite":
        with op.batch_alter_table('deals', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('deals', recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_accounts_domain_key'), type_='unique')
        batch_op.create_index(batch_op.f('ix_accounts_domain_key'), ['domain_key'], unique=False)
