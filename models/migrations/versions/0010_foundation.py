"""the foundation runs it: administrators, archived districts and teams with their IBAN, other provisions per
municipality (filled from the list that was in code), closed budget years, cancelled grants, carried-over
grants, loans with their repayments, the programme manager's role

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:38:52.757218
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ROLE_IN = "role IN ({})"
TEAM_ROLES_OLD = ["'worker'", "'income_consultant'", "'provisions_expert'", "'client_manager'", "'team_leader'",
                  "'observer'"]
TEAM_ROLES_NEW = TEAM_ROLES_OLD + ["'programme_manager'"]
INVITE_ROLE_OLD = "role = 'coordinator' OR team_id IS NOT NULL OR kind = 'recovery'"
INVITE_ROLE_NEW = "role IN ('coordinator', 'administrator') OR team_id IS NOT NULL OR kind = 'recovery'"

#: the other provisions that were fixed in code (models/requests.py ALTERNATIVES until this migration), per cost
#: category code: every municipality starts with them as rows it can edit
PROVISIONS_IN_CODE = {
    "groceries": ["Voedselbank", "Bijzondere bijstand", "Voorschot uitkering", "Noodfonds (kerk, moskee)"],
    "housing": ["Bijzondere bijstand", "Huurtoeslag", "Schuldhulpverlening", "Betalingsregeling verhuurder"],
    "energy": ["Energietoeslag", "Bijzondere bijstand", "Energiefonds", "Betalingsregeling leverancier"],
    "transport": ["Stadspas", "Bijzondere bijstand", "Reiskostenvergoeding werkgever"],
    "medical": ["Zorgverzekering", "Aanvullende verzekering", "Bijzondere bijstand", "Zorgtoeslag"],
    "clothing": ["Kledingbank", "Bijzondere bijstand", "Stadspas"],
    "children": ["Scholierenvergoeding", "Jeugdfonds Sport & Cultuur", "Stichting Leergeld", "Kindgebonden budget"],
    "furnishing": ["Bijzondere bijstand", "Kringloop", "Inrichtingskrediet"],
    "fees": ["Bijzondere bijstand", "Kwijtschelding", "Toevoeging rechtsbijstand"],
    "other": ["Bijzondere bijstand", "Fonds (particulier)"],
}


def _provisions_from_code():
    """Each municipality gets the provisions of its cost categories' codes, linked to those categories."""
    connection = op.get_bind()
    categories = connection.execute(sa.text("SELECT id, municipality_id, code FROM costcategory")).all()
    provision_ids = {}
    for category_id, municipality_id, code in categories:
        for name in PROVISIONS_IN_CODE.get(code, []):
            key = (municipality_id, name)
            if key not in provision_ids:
                position = sum(1 for m, _n in provision_ids if m == municipality_id)
                connection.execute(sa.text(
                    "INSERT INTO provision (municipality_id, name, description, link, position, active) "
                    "VALUES (:m, :n, '', '', :p, :a)"), {"m": municipality_id, "n": name, "p": position, "a": True})
                provision_ids[key] = connection.execute(sa.text(
                    "SELECT id FROM provision WHERE municipality_id = :m AND name = :n"),
                    {"m": municipality_id, "n": name}).scalar_one()
            connection.execute(sa.text("INSERT INTO provisioncategory (provision_id, cost_category_id) VALUES (:p, :c)"),
                               {"p": provision_ids[key], "c": category_id})


def upgrade():
    op.create_table('provision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('municipality_id', 'name')
    )
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provision_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('provisioncategory',
    sa.Column('provision_id', sa.Integer(), nullable=False),
    sa.Column('cost_category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cost_category_id'], ['costcategory.id'], ),
    sa.ForeignKeyConstraint(['provision_id'], ['provision.id'], ),
    sa.PrimaryKeyConstraint('provision_id', 'cost_category_id')
    )
    with op.batch_alter_table('provisioncategory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provisioncategory_cost_category_id'), ['cost_category_id'], unique=False)

    op.create_table('repayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('budget_year_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name='repayment_positive'),
    sa.ForeignKeyConstraint(['budget_year_id'], ['budgetyear.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['spendrequest.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repayment_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('budgetyear', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_budgetyear_closed_by_id_member', 'member', ['closed_by_id'], ['id'])

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.alter_column('municipality_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('created_by_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint('invite_team_role_has_team', type_='check')
        batch_op.create_check_constraint('invite_team_role_has_team', INVITE_ROLE_NEW)

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint('membership_team_role', type_='check')
        batch_op.create_check_constraint('membership_team_role', ROLE_IN.format(", ".join(TEAM_ROLES_NEW)))

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_administrator', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('deactivated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.alter_column('municipality_id',
               existing_type=sa.INTEGER(),
               nullable=True)

    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_to_year_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('repayment_amount_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('repayment_due_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key('fk_spendrequest_carried_to_year_id_budgetyear', 'budgetyear', ['carried_to_year_id'], ['id'])

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    _provisions_from_code()



def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('iban')

    with op.batch_alter_table('spendrequest', schema=None) as batch_op:
        batch_op.drop_constraint('fk_spendrequest_carried_to_year_id_budgetyear', type_='foreignkey')
        batch_op.drop_column('repayment_due_on')
        batch_op.drop_column('repayment_amount_cents')
        batch_op.drop_column('carried_to_year_id')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('municipality_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('is_administrator')

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint('membership_team_role', type_='check')
        batch_op.create_check_constraint('membership_team_role', ROLE_IN.format(", ".join(TEAM_ROLES_OLD)))

    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_constraint('invite_team_role_has_team', type_='check')
        batch_op.create_check_constraint('invite_team_role_has_team', INVITE_ROLE_OLD)
        batch_op.alter_column('created_by_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column('municipality_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('budgetyear', schema=None) as batch_op:
        batch_op.drop_constraint('fk_budgetyear_closed_by_id_member', type_='foreignkey')
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_team_id'))
        batch_op.drop_index(batch_op.f('ix_repayment_request_id'))

    op.drop_table('repayment')
    with op.batch_alter_table('provisioncategory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provisioncategory_cost_category_id'))

    op.drop_table('provisioncategory')
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provision_municipality_id'))

    op.drop_table('provision')
