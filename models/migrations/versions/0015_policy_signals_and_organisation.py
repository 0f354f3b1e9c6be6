"""policy signals: would-have-been-solved-if notes; a member organisation

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 20:24:31.507193
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('solvedifnote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('solvedifnote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_solvedifnote_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_solvedifnote_request_id'), ['request_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=100), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('organisation')

    with op.batch_alter_table('solvedifnote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_solvedifnote_request_id'))
        batch_op.drop_index(batch_op.f('ix_solvedifnote_municipality_id'))

    op.drop_table('solvedifnote')
