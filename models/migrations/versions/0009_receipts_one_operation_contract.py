"""receipts are applied once through the phone's operations (clientoperation), like every outbox item:
the receipt's own client_id and its unique constraint go

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:30:00.000000
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_constraint('uq_receipt_request_client', type_='unique')
        batch_op.drop_column('client_id')


def downgrade():
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.create_unique_constraint('uq_receipt_request_client', ['request_id', 'client_id'])
