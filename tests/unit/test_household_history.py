"""The household's history: only grants in this municipality and budget year, never the request itself, no
identity, nothing undecided or cancelled."""
from dataclasses import fields
from datetime import date

import pytest
from sqlmodel import select

from models.household_history import HistoryLine, household_history, history_of_request
from models.members import active_membership
from models.requests import DraftInput, RequestStatus, household_key, post_request, save_draft
from models.teams import BudgetYear, CostCategory, District, Municipality
from tests.card_world import SECRET, granted_request, municipality_id


@pytest.fixture
def world(session, make_team, make_member):
    """Two teams of one municipality and one of another; grants to household H-1 and H-2."""
    team = make_team("Team Oost")
    municipality = session.get(Municipality, municipality_id(session, team))
    west = make_team("Team West", municipality=municipality)
    far = make_team("Team Ver")
    world = {"team": team, "west": west, "far": far}
    for name, each in (("oost", team), ("west", west), ("far", far)):
        world[f"{name}_worker"] = make_member(each, "worker", name=f"Wim {name}")
        world[f"{name}_voter"] = make_member(each, "worker", name=f"Vera {name}")
    world["first"] = granted_request(session, team, world["oost_worker"], world["oost_voter"], 7_500)
    world["by_west"] = granted_request(session, west, world["west_worker"], world["west_voter"], 2_500)
    world["other_household"] = granted_request(session, team, world["oost_worker"], world["oost_voter"], 1_000,
                                               household="H-2")
    world["far_away"] = granted_request(session, far, world["far_worker"], world["far_voter"], 4_000)
    category_id = session.exec(select(CostCategory.id).where(CostCategory.municipality_id == municipality.id,
                                                             CostCategory.code == "groceries")).one()
    draft = save_draft(session, team, active_membership(session, world["oost_worker"].id, team.id), DraftInput(
        amount="50", cost_category_id=category_id, situation="Huur achter.", prevents="Uitzetting.",
        household_reference="h-1 "), household_secret=SECRET)
    post_request(session, draft, team, world["oost_worker"].id)
    session.commit()
    world["open"] = draft
    return world


def test_the_history_holds_this_municipalitys_grants_of_this_year_without_the_request_itself(session, world):
    lines = history_of_request(session, world["team"], world["open"])
    assert [(line.amount_cents, line.team_name) for line in lines] == [(7_500, "Team Oost"), (2_500, "Team West")]
    assert all(line.category.code == "groceries" and line.decided_at is not None for line in lines)
    # the first grant's own history holds the other one only, not itself
    first = history_of_request(session, world["team"], world["first"])
    assert [(line.amount_cents, line.team_name) for line in first] == [(2_500, "Team West")]


def test_no_identity_in_a_line():
    assert {f.name for f in fields(HistoryLine)} == {"decided_at", "category_id", "category", "amount_cents",
                                                     "team_name"}


def test_only_granted_requests_count(session, world):
    cancelled = world["by_west"]
    cancelled.status = RequestStatus.CANCELLED
    session.add(cancelled)
    session.commit()
    lines = history_of_request(session, world["team"], world["open"])
    assert [line.amount_cents for line in lines] == [7_500]  # the open request itself is not a grant either


def test_another_budget_year_and_another_municipality_are_left_out(session, world):
    municipality_id_ = municipality_id(session, world["team"])
    last_year = BudgetYear(municipality_id=municipality_id_, year=date.today().year - 1,
                           starts_on=date(date.today().year - 1, 1, 1), ends_on=date(date.today().year - 1, 12, 31))
    session.add(last_year)
    session.flush()
    world["first"].budget_year_id = last_year.id
    session.add(world["first"])
    session.commit()
    key = household_key(SECRET, "H-1")
    this_year = world["open"].budget_year_id
    assert [line.amount_cents for line in household_history(session, municipality_id_, this_year, key)] == [2_500]
    # the far team's grant to the same reference is in its own municipality only
    far_municipality = municipality_id(session, world["far"])
    assert household_history(session, municipality_id_, world["far_away"].budget_year_id, key) == []
    assert [line.team_name for line in household_history(session, far_municipality,
                                                          world["far_away"].budget_year_id, key)] == ["Team Ver"]


def test_no_household_no_history(session, world):
    assert household_history(session, municipality_id(session, world["team"]), world["open"].budget_year_id,
                             None) == []
