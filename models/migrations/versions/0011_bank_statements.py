"""bank statements: the statements of team accounts as read from the bank's files, and their lines, each line
once by its identity (models/bank_statements.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:19:25.228927
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bankstatement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('account_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('statement_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('opening_cents', sa.Integer(), nullable=True),
    sa.Column('closing_cents', sa.Integer(), nullable=True),
    sa.Column('opening_date', sa.Date(), nullable=True),
    sa.Column('closing_date', sa.Date(), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_id'], ['member.id'], name='fk_bankstatement_imported_by_id_member'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name='fk_bankstatement_municipality'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name='fk_bankstatement_team_id_team'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bankstatement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bankstatement_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('ix_bankstatement_team_ref', ['team_id', 'statement_ref'], unique=False)

    op.create_table('bankline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=True),
    sa.Column('bank_reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('entry_reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('counterparty_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('counterparty_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('transaction_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('merchant_category_code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('card_reference', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name='fk_bankline_entry_id_entry'),
    sa.ForeignKeyConstraint(['statement_id'], ['bankstatement.id'], name='fk_bankline_statement_id_bankstatement'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name='fk_bankline_team_id_team'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity')
    )
    with op.batch_alter_table('bankline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bankline_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('ix_bankline_team_booking', ['team_id', 'booking_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_bankline_team_id'), ['team_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bankline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bankline_team_id'))
        batch_op.drop_index('ix_bankline_team_booking')
        batch_op.drop_index(batch_op.f('ix_bankline_statement_id'))

    op.drop_table('bankline')
    with op.batch_alter_table('bankstatement', schema=None) as batch_op:
        batch_op.drop_index('ix_bankstatement_team_ref')
        batch_op.drop_index(batch_op.f('ix_bankstatement_municipality_id'))

    op.drop_table('bankstatement')
