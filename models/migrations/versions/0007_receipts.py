"""receipts: photos of receipts for granted requests, and "no receipt possible" statements

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_cents IS NULL OR amount_cents > 0', name='receipt_amount_positive'),
    sa.ForeignKeyConstraint(['added_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_name'),
    sa.UniqueConstraint('request_id', 'client_id', name='uq_receipt_request_client')
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_team_id'), ['team_id'], unique=False)

    op.create_table('receiptwaiver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )


def downgrade():
    op.drop_table('receiptwaiver')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_team_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_request_id'))
    op.drop_table('receipt')
