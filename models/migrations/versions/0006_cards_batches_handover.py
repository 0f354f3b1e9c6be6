"""cards, card handovers, load batches

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:22:07.152084
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('loadbatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('downloaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sepa_xml', sa.Text(), nullable=True),
    sa.Column('executed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('executed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['executed_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('loadbatch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loadbatch_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('last_four', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('budget_year_id', sa.Integer(), nullable=True),
    sa.Column('loaded_amount_cents', sa.Integer(), nullable=True),
    sa.Column('returned_amount_cents', sa.Integer(), nullable=True),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('loaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('handed_over_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('length(last_four) = 4', name='card_last_four_only'),
    sa.CheckConstraint('loaded_amount_cents IS NULL OR loaded_amount_cents > 0', name='card_loaded_positive'),
    sa.ForeignKeyConstraint(['budget_year_id'], ['budgetyear.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'reference')
    )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_team_id'), ['team_id'], unique=False)

    op.create_table('batchline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('budget_year_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name='batchline_amount_positive'),
    sa.ForeignKeyConstraint(['batch_id'], ['loadbatch.id'], ),
    sa.ForeignKeyConstraint(['budget_year_id'], ['budgetyear.id'], ),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batchline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batchline_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batchline_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batchline_team_id'), ['team_id'], unique=False)

    op.create_table('cardhandover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('cardhandover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cardhandover_card_id'), ['card_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cardhandover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cardhandover_card_id'))

    op.drop_table('cardhandover')
    with op.batch_alter_table('batchline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batchline_team_id'))
        batch_op.drop_index(batch_op.f('ix_batchline_card_id'))
        batch_op.drop_index(batch_op.f('ix_batchline_batch_id'))

    op.drop_table('batchline')
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_team_id'))
        batch_op.drop_index(batch_op.f('ix_card_state'))
        batch_op.drop_index(batch_op.f('ix_card_request_id'))

    op.drop_table('card')
    with op.batch_alter_table('loadbatch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loadbatch_municipality_id'))

    op.drop_table('loadbatch')
