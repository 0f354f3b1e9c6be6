"""reconciliation and hash chain: bank lines matched to the ledger, flags and merchant rules, card accounts,
and the chain columns of audit events and ledger entries (models/reconciliation.py, models/audit_chain.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:51:44.842850
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chainhead',
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_verified_ok', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name='fk_chainhead_municipality_id_municipality'),
    sa.PrimaryKeyConstraint('municipality_id')
    )
    op.create_table('merchantrule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['costcategory.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('municipality_id', 'category_id', 'kind', 'value')
    )
    with op.batch_alter_table('merchantrule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchantrule_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('bankflag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('bank_line_id', sa.Integer(), nullable=True),
    sa.Column('batch_line_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bank_line_id'], ['bankline.id'], ),
    sa.ForeignKeyConstraint(['batch_line_id'], ['batchline.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bank_line_id', 'reason'),
    sa.UniqueConstraint('batch_line_id', 'reason')
    )
    with op.batch_alter_table('bankflag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bankflag_bank_line_id'), ['bank_line_id'], unique=False)
        batch_op.create_index('ix_bankflag_queue', ['municipality_id', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bankflag_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    with op.batch_alter_table('bankline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('card_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('batch_line_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bankline_batch_line_id'), ['batch_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bankline_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bankline_request_id'), ['request_id'], unique=False)
        batch_op.create_foreign_key('fk_bankline_batch_line_id_batchline', 'batchline', ['batch_line_id'], ['id'])
        batch_op.create_foreign_key('fk_bankline_request_id_spendrequest', 'spendrequest', ['request_id'], ['id'])
        batch_op.create_foreign_key('fk_bankline_card_id_card', 'card', ['card_id'], ['id'])

    with op.batch_alter_table('bankstatement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_bankstatement_card_id_card', 'card', ['card_id'], ['id'])

    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=True))
        batch_op.create_index(batch_op.f('ix_card_account_iban'), ['account_iban'], unique=False)

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))



def downgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('chain_seq')

    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_account_iban'))
        batch_op.drop_column('account_iban')

    with op.batch_alter_table('bankstatement', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bankstatement_card_id_card', type_='foreignkey')
        batch_op.drop_column('card_id')

    with op.batch_alter_table('bankline', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bankline_card_id_card', type_='foreignkey')
        batch_op.drop_constraint('fk_bankline_request_id_spendrequest', type_='foreignkey')
        batch_op.drop_constraint('fk_bankline_batch_line_id_batchline', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bankline_request_id'))
        batch_op.drop_index(batch_op.f('ix_bankline_card_id'))
        batch_op.drop_index(batch_op.f('ix_bankline_batch_line_id'))
        batch_op.drop_column('batch_line_id')
        batch_op.drop_column('request_id')
        batch_op.drop_column('card_id')
        batch_op.drop_column('match')

    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('chain_seq')

    with op.batch_alter_table('bankflag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bankflag_team_id'))
        batch_op.drop_index('ix_bankflag_queue')
        batch_op.drop_index(batch_op.f('ix_bankflag_bank_line_id'))

    op.drop_table('bankflag')
    with op.batch_alter_table('merchantrule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchantrule_municipality_id'))

    op.drop_table('merchantrule')
    op.drop_table('chainhead')
