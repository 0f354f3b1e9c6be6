"""report figures from indexes: the year's report (models/reports.py) is grouped from one covering index,
its cross table from a narrow one, and the grants carried to a year are found by theirs

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 20:47:34.290937
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.create_index('ix_spendrequest_carried_to_year', ['carried_to_year_id', 'status', 'team_id', 'granted_amount_cents'], unique=False)
        batch_op.create_index('ix_spendrequest_year_figures', ['budget_year_id', 'team_id', 'status', 'granted_kind', 'granted_amount_cents', 'cost_category_id', 'amount_cents', 'carried_to_year_id', 'posted_at', 'decided_at', 'id'], unique=False)
        batch_op.create_index('ix_spendrequest_year_team_category', ['budget_year_id', 'team_id', 'cost_category_id', 'posted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.drop_index('ix_spendrequest_year_team_category')
        batch_op.drop_index('ix_spendrequest_year_figures')
        batch_op.drop_index('ix_spendrequest_carried_to_year')
