"""learning from the budget (issue 13): outcome reviews, tips and their categories, experts and the questions put
to them, avoided-cost scenarios and the ones a request prevents, and the value triangle's two new request fields

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:36:06.447458
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('avoidedcostscenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name_nl', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reference_cost_cents', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('is_example', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('reference_cost_cents > 0', name='scenario_cost_positive'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('avoidedcostscenario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_avoidedcostscenario_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('experttopic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'topic')
    )
    with op.batch_alter_table('experttopic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experttopic_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('expertquestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asked_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'expert_id')
    )
    with op.batch_alter_table('expertquestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expertquestion_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expertquestion_request_id'), ['request_id'], unique=False)

    op.create_table('outcomereview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('lesson', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('outcomereview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomereview_team_id'), ['team_id'], unique=False)

    op.create_table('requestscenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('likelihood_percent', sa.Integer(), nullable=False),
    sa.CheckConstraint('likelihood_percent BETWEEN 1 AND 100', name='scenario_likelihood_percent'),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['scenario_id'], ['avoidedcostscenario.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'scenario_id')
    )
    with op.batch_alter_table('requestscenario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requestscenario_request_id'), ['request_id'], unique=False)

    op.create_table('tip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('source_request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.ForeignKeyConstraint(['source_request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('tipcategory',
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['costcategory.id'], ),
    sa.ForeignKeyConstraint(['tip_id'], ['tip.id'], ),
    sa.PrimaryKeyConstraint('tip_id', 'category_id')
    )
    with op.batch_alter_table('tipcategory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tipcategory_category_id'), ['category_id'], unique=False)

    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legitimacy', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('own_contribution', sa.Text(), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.drop_column('own_contribution')
        batch_op.drop_column('legitimacy')

    with op.batch_alter_table('tipcategory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tipcategory_category_id'))

    op.drop_table('tipcategory')
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_municipality_id'))

    op.drop_table('tip')
    with op.batch_alter_table('requestscenario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requestscenario_request_id'))

    op.drop_table('requestscenario')
    with op.batch_alter_table('outcomereview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomereview_team_id'))

    op.drop_table('outcomereview')
    with op.batch_alter_table('expertquestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expertquestion_request_id'))
        batch_op.drop_index(batch_op.f('ix_expertquestion_expert_id'))

    op.drop_table('expertquestion')
    with op.batch_alter_table('experttopic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experttopic_municipality_id'))

    op.drop_table('experttopic')
    with op.batch_alter_table('avoidedcostscenario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_avoidedcostscenario_municipality_id'))

    op.drop_table('avoidedcostscenario')
