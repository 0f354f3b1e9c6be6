"""The rules of budget years (models/budget_years.py), without the web: which year may be opened, the banner,
and budgets that always agree with the ledger."""
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from models.budget_years import (
    budget_rows, budgets_prefill, find_year, open_budget_year, set_budgets, year_banner, year_state, year_to_open)
from models.clock import utcnow
from models.ledger import AccountKind, accounts_out_of_balance, balance_cents
from models.money import MAX_AMOUNT_CENTS
from models.rules import RuleViolation
from models.teams import BudgetYear, District, Team, TeamBudget, create_municipality
from tests.card_world import granted_request

Y = 2030  # the municipality's first year in these tests; the clock is put in it


@pytest.fixture
def town(session, clock):
    """A municipality with year Y, two teams (one archived) with budgets, and a worker and voter on the first."""
    from models.ledger import allocate_annual_budget
    from models.members import add_membership, create_member

    clock(datetime(Y, 12, 2, 9, tzinfo=timezone.utc))
    municipality, year = create_municipality(session, "Gemeente Eenheid", year=Y)
    district = District(municipality_id=municipality.id, name="Centrum")
    session.add(district)
    session.flush()
    teams = [Team(district_id=district.id, name=name) for name in ("Team Oost", "Team Oud")]
    session.add_all(teams)
    session.flush()
    allocate_annual_budget(session, teams[0], year.id, 200_000)
    allocate_annual_budget(session, teams[1], year.id, 50_000)
    teams[1].archived_at = utcnow()
    people = []
    for name in ("Wim", "Vera"):
        member = create_member(session, municipality_id=municipality.id, display_name=name)
        add_membership(session, member, teams[0], "worker")
        people.append(member)
    session.commit()
    return {"municipality": municipality, "year": year, "team": teams[0], "archived": teams[1], "people": people}


@pytest.mark.parametrize("on, closed, state", [
    (date(Y, 6, 1), False, "current"), (date(Y, 1, 1), False, "current"), (date(Y, 12, 31), False, "current"),
    (date(Y - 1, 12, 31), False, "upcoming"), (date(Y + 1, 1, 1), False, "ended"), (date(Y + 1, 1, 1), True, "closed"),
])
def test_year_state(on, closed, state):
    year = BudgetYear(municipality_id=1, year=Y, starts_on=date(Y, 1, 1), ends_on=date(Y, 12, 31),
                      closed_at=datetime(Y + 1, 1, 5, tzinfo=timezone.utc) if closed else None)
    assert year_state(year, on) == state


@pytest.mark.parametrize("on, next_open, banner", [
    (date(Y, 11, 30), False, None),
    (date(Y, 12, 1), False, {"next": Y + 1}),
    (date(Y, 12, 31), False, {"next": Y + 1}),
    (date(Y, 12, 1), True, None),
    (date(Y + 1, 1, 1), False, {"missing": Y + 1}),
    (date(Y + 1, 1, 1), True, None),
    (date(Y + 1, 12, 1), True, {"next": Y + 2}),
])
def test_the_banner(session, town, on, next_open, banner):
    if next_open:
        open_budget_year(session, town["municipality"].id, Y + 1, {}, None)
    assert year_banner(session, town["municipality"].id, on) == banner


def test_the_year_offered_is_this_one_when_missing_else_the_next(session, town):
    municipality_id = town["municipality"].id
    assert year_to_open(session, municipality_id, date(Y, 12, 2)) == Y + 1
    assert year_to_open(session, municipality_id, date(Y + 3, 3, 1)) == Y + 3
    open_budget_year(session, municipality_id, Y + 1, {}, None)
    assert year_to_open(session, municipality_id, date(Y, 12, 2)) is None


def test_prefill_copies_the_budgets_of_teams_not_archived(session, town):
    rows = budgets_prefill(session, town["municipality"].id, Y)
    assert [(row["team"].name, row["budget_cents"]) for row in rows] == [("Team Oost", 200_000)]
    assert [row["budget_cents"] for row in budgets_prefill(session, town["municipality"].id, None)] == [0]
    with pytest.raises(RuleViolation, match=f"Budgetjaar {Y - 1} bestaat niet") as refused:
        budgets_prefill(session, town["municipality"].id, Y - 1)
    assert refused.value.field == "copy_from"
    # the year's own page still shows the archived team, which has a budget in it
    assert [row["team"].name for row in budget_rows(session, town["year"])] == ["Team Oost", "Team Oud"]


@pytest.mark.parametrize("year, budgets, field, message", [
    (Y, {}, "year", "al geopend"),
    (Y - 1, {}, "year", "Open dit jaar"),
    (Y + 2, {}, "year", "Open dit jaar"),
    (Y + 1, {"team": -1}, "budget", "nul of meer"),
    (Y + 1, {"team": MAX_AMOUNT_CENTS + 1}, "budget", "hoogstens"),
    (Y + 1, {"stranger": 100}, None, "hoort niet bij deze gemeente"),
])
def test_opening_refuses(session, town, year, budgets, field, message):
    stranger_town, _year = create_municipality(session, "Gemeente Elders", year=Y)
    district = District(municipality_id=stranger_town.id, name="Elders")
    session.add(district)
    session.flush()
    stranger = Team(district_id=district.id, name="Team Elders")
    session.add(stranger)
    session.flush()
    ids = {"team": town["team"].id, "stranger": stranger.id}
    with pytest.raises(RuleViolation, match=message) as refused:
        open_budget_year(session, town["municipality"].id, year, {ids[k]: v for k, v in budgets.items()}, None)
    expected = f"budget_{town['team'].id}" if field == "budget" else field
    assert refused.value.field == expected


def test_opening_books_each_budget_from_funding_to_available(session, town):
    team = town["team"]
    opened = open_budget_year(session, town["municipality"].id, Y + 1, {team.id: 123_456}, actor_id=None)
    assert (opened.starts_on, opened.ends_on) == (date(Y + 1, 1, 1), date(Y + 1, 12, 31))
    assert balance_cents(session, team.id, opened.id, AccountKind.AVAILABLE) == 123_456
    assert balance_cents(session, team.id, opened.id, AccountKind.FUNDING) == -123_456
    assert find_year(session, town["municipality"].id, Y + 1) is opened


def test_changing_budgets_keeps_what_was_granted_and_leaves_a_closed_year(session, town):
    team, year = town["team"], town["year"]
    worker, voter = town["people"]
    granted_request(session, team, worker, voter, 30_000)
    with pytest.raises(RuleViolation, match="al is toegekend") as refused:
        set_budgets(session, year, {team.id: 29_999}, None)
    assert refused.value.field == f"budget_{team.id}"
    session.rollback()
    assert set_budgets(session, year, {team.id: 30_000}, None) == 1
    assert set_budgets(session, year, {team.id: 30_000}, None) == 0  # nothing changed, nothing booked
    assert balance_cents(session, team.id, year.id, AccountKind.AVAILABLE) == 0
    year.closed_at = utcnow()
    session.add(year)
    session.flush()
    with pytest.raises(RuleViolation, match="afgesloten"):
        set_budgets(session, year, {team.id: 40_000}, None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budgets=st.lists(st.integers(min_value=0, max_value=MAX_AMOUNT_CENTS), min_size=1, max_size=6))
def test_any_series_of_budgets_agrees_with_the_ledger(session, town, budgets):
    team = town["team"]
    year = find_year(session, town["municipality"].id, Y + 1) or open_budget_year(
        session, town["municipality"].id, Y + 1, {team.id: 0}, None)
    for cents in budgets:
        set_budgets(session, year, {team.id: cents}, None)
        assert balance_cents(session, team.id, year.id, AccountKind.AVAILABLE) == cents
        assert balance_cents(session, team.id, year.id, AccountKind.FUNDING) == -cents
        assert session.exec(select(TeamBudget.annual_budget_cents).where(
            TeamBudget.team_id == team.id, TeamBudget.budget_year_id == year.id)).one() == cents
    assert accounts_out_of_balance(session) == []
