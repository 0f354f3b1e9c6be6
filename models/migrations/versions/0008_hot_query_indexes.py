"""hot query indexes: the household cap's sum reads only that household's year; a team's latest event
is the last entry of its own index (team_version, asked by every live poll)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:45:00.000000
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.drop_index('ix_spendrequest_household_key')
        batch_op.create_index('ix_spendrequest_household_year_status', ['household_key', 'budget_year_id', 'status'],
                              unique=False)
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index('ix_auditevent_team_id')
        batch_op.create_index('ix_auditevent_team_id_id', ['team_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index('ix_auditevent_team_id_id')
        batch_op.create_index('ix_auditevent_team_id', ['team_id'], unique=False)
    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.drop_index('ix_spendrequest_household_year_status')
        batch_op.create_index('ix_spendrequest_household_key', ['household_key'], unique=False)
