"""Setting up a municipality: names, districts, teams with their IBAN, archiving (models/municipalities.py)."""
import pytest
from sqlmodel import func, select

from models.invites import invite_administrator, invite_coordinator, invite_recovery, redeem_invite
from models.ledger import allocate_annual_budget
from models.members import Role, create_member, new_user_handle
from models.municipalities import (
    add_district, archive_district, archive_team, check_iban, clean_name, create_municipality, create_team, edit_team,
    formatted_iban, municipalities_with_team_counts, rename_district, rename_municipality, teams_of)
from models.requests import RequestStatus, SpendRequest, post_request
from models.rules import RuleViolation
from models.teams import DEFAULT_COST_CATEGORIES, BudgetYear, CostCategory, Team

IBAN = "NL91ABNA0417164300"
OTHER_IBAN = "NL20INGB0001234567"


@pytest.fixture
def municipality(session):
    municipality = create_municipality(session, "Gemeente Proef")
    session.commit()
    return municipality


@pytest.fixture
def district(session, municipality):
    district = add_district(session, municipality.id, "Noord")
    session.commit()
    return district


@pytest.mark.parametrize("raw, name", [("  Gemeente   Proef ", "Gemeente Proef"), ("Zuid\tOost\n", "Zuid Oost"),
                                       ("Ów-'s Hertogenbosch", "Ów-'s Hertogenbosch"), ("x" * 100, "x" * 100)])
def test_clean_name_collapses_blanks(raw, name):
    assert clean_name(raw) == name


@pytest.mark.parametrize("raw, message", [
    ("", "Vul een naam in."), ("   \t", "Vul een naam in."), (None, "Vul een naam in."),
    ("x" * 101, "Gebruik hoogstens 100 tekens."), ("Noord\x00", "Gebruik alleen"), ("Noord\x1b[31m", "Gebruik alleen"),
    ("\u202eNoord", "Gebruik alleen"), ("Noord\u200b", "Gebruik alleen"), ("\ud800", "Gebruik alleen"),
    ("\U0010ffff", "Gebruik alleen")])
def test_clean_name_refuses_empty_long_and_invisible(raw, message):
    with pytest.raises(RuleViolation) as refused:
        clean_name(raw, field="team_name")
    assert str(refused.value.message).startswith(message) and refused.value.field == "team_name"


@pytest.mark.parametrize("raw", ["NL91ABNA0417164300", "nl91 abna 0417 1643 00", " NL91 ABNA 0417 1643 00 "])
def test_check_iban_stores_the_electronic_form(raw):
    assert check_iban(raw) == IBAN
    assert formatted_iban(check_iban(raw)) == "NL91 ABNA 0417 1643 00"


@pytest.mark.parametrize("raw, message", [
    ("", "Vul het IBAN"), ("NL92ABNA0417164300", "Het controlegetal"), ("NL91ABNA04171643", "Dit IBAN heeft niet"),
    ("ZZ91ABNA0417164300", "Een IBAN begint"), ("geen iban", "Dit is geen geldig IBAN"), ("N" * 43, "Dit is geen IBAN"),
    ("NL91ABNA\x000417164300", "Dit is geen"), ("١٢٣", "Dit is geen geldig IBAN"), (None, "Vul het IBAN")])
def test_check_iban_says_what_is_wrong(raw, message):
    with pytest.raises(RuleViolation) as refused:
        check_iban(raw)
    assert str(refused.value.message).startswith(message) and refused.value.field == "iban"


def test_new_municipality_has_default_categories_and_this_years_budget_year(session, municipality):
    categories = session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id)).all()
    assert len(categories) == len(DEFAULT_COST_CATEGORIES)
    assert session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality.id)).one()


def test_new_municipality_has_the_default_provisions(session, municipality):
    from models.teams import Provision
    assert session.exec(select(func.count(Provision.id)).where(
        Provision.municipality_id == municipality.id)).one() > 0


def test_municipality_names_are_unique_ignoring_case(session, municipality):
    with pytest.raises(RuleViolation, match="al een gemeente"):
        create_municipality(session, "gemeente PROEF")
    other = create_municipality(session, "Gemeente Ander")
    with pytest.raises(RuleViolation, match="al een gemeente"):
        rename_municipality(session, other, " Gemeente  Proef")
    rename_municipality(session, municipality, "Gemeente proef")  # its own name, another case: fine
    assert municipality.name == "Gemeente proef"


def test_district_names_are_unique_within_the_municipality(session, municipality, district):
    with pytest.raises(RuleViolation, match="al een stadsdeel") as refused:
        add_district(session, municipality.id, "noord")
    assert refused.value.field == "name"
    elsewhere = create_municipality(session, "Gemeente Ander")
    assert add_district(session, elsewhere.id, "Noord").name == "Noord"
    zuid = add_district(session, municipality.id, "Zuid")
    with pytest.raises(RuleViolation, match="al een stadsdeel"):
        rename_district(session, zuid, "NOORD")


def test_team_is_created_with_checked_iban_and_default_rules(session, municipality, district):
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id,
                       iban="nl91 abna 0417 1643 00", actor_id=None)
    assert (team.iban, team.quorum, team.archived_at) == (IBAN, 3, None)
    assert [t.name for t, _d in teams_of(session, municipality.id)] == ["Team Een"]
    assert municipalities_with_team_counts(session) == [(municipality, 1)]


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"), ({"name": "team een"}, "name"), ({"district_id": None}, "district_id"),
    ({"district_id": 999_999}, "district_id"), ({"iban": "NL00ABNA0417164300"}, "iban"), ({"iban": IBAN}, "iban")])
def test_team_refusals_change_nothing(session, municipality, district, change, field):
    create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    session.commit()
    values = {"name": "Team Twee", "district_id": district.id, "iban": OTHER_IBAN, **change}
    with pytest.raises(RuleViolation) as refused:
        create_team(session, municipality.id, actor_id=None, **values)
    assert refused.value.field == field
    session.rollback()
    assert session.exec(select(func.count(Team.id))).one() == 1


def test_a_team_is_not_put_in_another_municipalitys_or_an_archived_district(session, municipality, district):
    elsewhere = create_municipality(session, "Gemeente Ander")
    foreign = add_district(session, elsewhere.id, "Ver weg")
    with pytest.raises(RuleViolation, match="Kies een stadsdeel"):
        create_team(session, municipality.id, name="T", district_id=foreign.id, iban=IBAN, actor_id=None)
    closed = add_district(session, municipality.id, "Oud")
    archive_district(session, closed)
    with pytest.raises(RuleViolation, match="Kies een stadsdeel"):
        create_team(session, municipality.id, name="T", district_id=closed.id, iban=IBAN, actor_id=None)
    team = create_team(session, municipality.id, name="T", district_id=district.id, iban=IBAN, actor_id=None)
    with pytest.raises(RuleViolation, match="Kies een stadsdeel"):
        edit_team(session, team, name="T", district_id=closed.id, iban=IBAN, actor_id=None)


def test_edit_team_changes_name_district_and_iban(session, municipality, district):
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    zuid = add_district(session, municipality.id, "Zuid")
    edit_team(session, team, name="Team Zuid", district_id=zuid.id, iban=OTHER_IBAN, actor_id=None)
    assert (team.name, team.district_id, team.iban) == ("Team Zuid", zuid.id, OTHER_IBAN)
    # an archived district may stay a team's own district (its other details still change)
    archive_team(session, team, actor_id=None)
    archive_district(session, zuid)
    edit_team(session, team, name="Team Zuid (oud)", district_id=zuid.id, iban=OTHER_IBAN, actor_id=None)
    assert team.name == "Team Zuid (oud)"


def test_district_with_active_teams_is_not_archived(session, municipality, district):
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    with pytest.raises(RuleViolation, match="nog 1 actieve teams"):
        archive_district(session, district)
    archive_team(session, team, actor_id=None)
    archive_district(session, district)
    assert district.archived_at is not None
    with pytest.raises(RuleViolation, match="al gearchiveerd"):
        archive_district(session, district)


def _budget_year(session, municipality):
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality.id)).one()


def test_team_with_open_request_or_unloaded_grant_is_not_archived(session, municipality, district):
    from tests.card_world import granted_request, with_categories

    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    allocate_annual_budget(session, team, _budget_year(session, municipality).id, 100_000)
    with_categories(session, team)
    worker = create_member(session, municipality_id=municipality.id, display_name="Wim")
    voter = create_member(session, municipality_id=municipality.id, display_name="Vera")
    from models.members import add_membership
    add_membership(session, worker, team, "worker")
    add_membership(session, voter, team, "worker")
    open_request = SpendRequest(team_id=team.id, requester_id=worker.id, status=RequestStatus.OPEN, amount_cents=100)
    session.add(open_request)
    session.commit()
    with pytest.raises(RuleViolation, match="nog 1 open aanvragen"):
        archive_team(session, team, actor_id=None)
    open_request.status = RequestStatus.WITHDRAWN
    session.add(open_request)
    granted_request(session, team, worker, voter, 5_000, household="H-1")
    with pytest.raises(RuleViolation, match="niet op een kaart"):
        archive_team(session, team, actor_id=None)
    assert team.archived_at is None


def test_archived_team_posts_no_request_and_keeps_the_draft(session, municipality, district):
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    worker = create_member(session, municipality_id=municipality.id, display_name="Wim")
    draft = SpendRequest(team_id=team.id, requester_id=worker.id, status=RequestStatus.DRAFT, amount_cents=100)
    session.add(draft)
    archive_team(session, team, actor_id=None)
    with pytest.raises(RuleViolation, match="gearchiveerd"):
        post_request(session, draft, team, worker.id)
    assert draft.status == RequestStatus.DRAFT
    with pytest.raises(RuleViolation, match="al gearchiveerd"):
        archive_team(session, team, actor_id=None)
    assert municipalities_with_team_counts(session) == [(municipality, 0)]


def test_an_archived_teams_account_may_go_to_a_new_team(session, municipality, district):
    old = create_team(session, municipality.id, name="Oud", district_id=district.id, iban=IBAN, actor_id=None)
    with pytest.raises(RuleViolation, match="ander team"):
        create_team(session, municipality.id, name="Nieuw", district_id=district.id, iban=IBAN, actor_id=None)
    archive_team(session, old, actor_id=None)
    assert create_team(session, municipality.id, name="Nieuw", district_id=district.id, iban=IBAN, actor_id=None)


def test_administrator_invite_makes_an_administrator_without_municipality(session, municipality):
    invite, _token = invite_administrator(session, None)
    assert (invite.role, invite.municipality_id, invite.team_id, invite.created_by_id) == (
        Role.ADMINISTRATOR, None, None, None)
    administrator = redeem_invite(session, invite, display_name="Bea", user_handle=new_user_handle())
    assert administrator.is_administrator and not administrator.is_coordinator
    assert administrator.municipality_id is None
    # an administrator invites administrators and coordinators of any municipality, and recovers administrators
    assert invite_administrator(session, administrator)[0].created_by_id == administrator.id
    assert invite_coordinator(session, administrator, municipality.id)[0].municipality_id == municipality.id
    assert invite_recovery(session, administrator, administrator)[0].municipality_id is None
    with pytest.raises(RuleViolation, match="Kies eerst een gemeente"):
        invite_coordinator(session, administrator)
    session.commit()


def test_only_an_administrator_invites_or_recovers_an_administrator(session, municipality):
    coordinator = create_member(session, municipality_id=municipality.id, display_name="Cora", is_coordinator=True)
    administrator = redeem_invite(session, invite_administrator(session, None)[0], display_name="Bea",
                                  user_handle=new_user_handle())
    with pytest.raises(RuleViolation, match="Alleen een beheerder"):
        invite_administrator(session, coordinator)
    with pytest.raises(RuleViolation, match="Alleen een beheerder"):
        invite_recovery(session, coordinator, administrator)
    elsewhere = create_municipality(session, "Gemeente Ander")
    with pytest.raises(RuleViolation, match="Alleen een coördinator van deze gemeente"):
        invite_coordinator(session, coordinator, elsewhere.id)
