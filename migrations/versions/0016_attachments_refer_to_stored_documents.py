"""attachments refer to the stored document they send

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

A deal summary is stored once per decision version and copy; each message sending it now refers to
that document instead of keeping its own copy of the bytes. Messages already built keep their copy.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_attachments_document_id'), ['document_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_attachments_document_id_documents'), 'documents', ['document_id'], ['id'])


def downgrade():
    # A message that refers to a document gets its own copy back before the reference goes.
    attachments = sa.table('outbox_attachments', sa.column('id'), sa.column('data'), sa.column('document_id'))
    documents = sa.table('documents', sa.column('id'), sa.column('data'))
    op.execute(
        attachments.update()
        .where(attachments.c.document_id.is_not(None), attachments.c.data.is_(None))
        .values(data=sa.select(documents.c.data).where(documents.c.id == attachments.c.document_id).scalar_subquery())
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_attachments_document_id_documents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_attachments_document_id'))
        batch_op.drop_column('document_id')
