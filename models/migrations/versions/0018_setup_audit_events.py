"""setup audit events: an audit event may belong to a municipality instead of a team, so changes of the
municipality's setup (its name, districts, cost categories, other provisions, avoided-cost scenarios) are in
its hash chain (models/audit.py `record_in_municipality`, models/audit_chain.py)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 03:00:00

Existing events keep municipality_id empty: a team's event finds its municipality through its team, and
its content hash leaves municipality_id out, so every chain verifies as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_auditevent_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_foreign_key('fk_auditevent_municipality_id_municipality', 'municipality',
                                    ['municipality_id'], ['id'])
        batch_op.alter_column('team_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_check_constraint('auditevent_team_or_municipality',
                                         'team_id IS NOT NULL OR municipality_id IS NOT NULL')


def downgrade():
    # the setup events cannot live without a team: they go, and their chains then report them missing
    op.execute("DELETE FROM auditevent WHERE team_id IS NULL")
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_constraint('auditevent_team_or_municipality', type_='check')
        batch_op.alter_column('team_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_constraint('fk_auditevent_municipality_id_municipality', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_auditevent_municipality_id'))
        batch_op.drop_column('municipality_id')
