"""push subscriptions and reminders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pushsubscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('p256dh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('auth', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint'),
    )
    with op.batch_alter_table('pushsubscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pushsubscription_member_id'), ['member_id'], unique=False)

    op.create_table(
        'pushreminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id', 'member_id'),
    )
    with op.batch_alter_table('pushreminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pushreminder_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pushreminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pushreminder_request_id'))
    op.drop_table('pushreminder')
    with op.batch_alter_table('pushsubscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pushsubscription_member_id'))
    op.drop_table('pushsubscription')
