"""Avoided costs as rules: the catalogue's checks, a request's picks (own municipality, 1..100 percent, an
archived scenario only when already picked), the expected value, and the totals per team and district
(granted requests only, of one budget year)."""
import pytest
from sqlmodel import select

from models.avoided_costs import (
    EXAMPLE_SCENARIOS, EXAMPLE_SOURCE, AvoidedCostScenario, RequestScenario, ScenarioInput, add_example_scenarios,
    add_scenario, avoided_cost_totals, choose_scenarios, edit_scenario, expected_avoided_cents, move_scenario,
    offered_scenarios, scenarios_of, scenarios_of_request, set_scenario_active)
from models.ledger import allocate_annual_budget
from models.members import active_membership
from models.requests import DraftInput, RequestStatus, SpendRequest, post_request, save_draft
from models.rules import RuleViolation
from models.teams import BudgetYear, CostCategory, District, Municipality, Team
from tests.card_world import SECRET, granted_request, municipality_id, with_categories


@pytest.fixture
def town(session, make_team, make_member):
    """Two teams in two districts of one municipality, a third team in the first district, and a team of
    another municipality; each with a worker and a voter."""
    north = make_team("Team Noord")
    mid = municipality_id(session, north)
    municipality = session.get(Municipality, mid)
    south = make_team("Team Zuid", municipality=municipality)
    north_two = Team(district_id=north.district_id, name="Team Noord-Twee")
    session.add(north_two)
    session.flush()
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == mid)).one()
    allocate_annual_budget(session, north_two, year.id, 250_000)
    session.commit()
    elsewhere = make_team("Team Elders")
    people = {}
    for team in (north, south, north_two, elsewhere):
        people[team.id] = (make_member(team, "worker", name=f"W {team.name}"),
                           make_member(team, "worker", name=f"V {team.name}"))
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == mid)).one()
    return {"north": north, "south": south, "north_two": north_two, "elsewhere": elsewhere, "people": people,
            "municipality_id": mid, "year": year}


def _scenario(session, municipality_id, name, euros):
    scenario = add_scenario(session, municipality_id, ScenarioInput(name, "", str(euros), "Rapport 2025"))
    session.commit()
    return scenario


def _granted(session, town, team, amount_cents, picks, household):
    worker, voter = town["people"][team.id]
    request = granted_request(session, team, worker, voter, amount_cents, household=household)
    for scenario, likelihood in picks:
        session.add(RequestScenario(request_id=request.id, scenario_id=scenario.id, likelihood_percent=likelihood))
    session.commit()
    return request


def _draft(session, team, member, **typed):
    with_categories(session, team)
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "groceries")).one()
    data = DraftInput(amount="50", cost_category_id=category_id, situation="Vader met twee kinderen.",
                      prevents="Afsluiting.", household_reference="H-9", **typed)
    draft = save_draft(session, team, active_membership(session, member.id, team.id), data, household_secret=SECRET)
    session.commit()
    return draft


# --- the catalogue ---

def test_a_scenario_is_checked_like_a_catalogue_entry(session, town):
    mid = town["municipality_id"]
    with pytest.raises(RuleViolation) as refused:
        add_scenario(session, mid, ScenarioInput("", "", "100", ""))
    assert refused.value.field == "name_nl"
    for cost in ("", "0", "-5", "tien"):
        with pytest.raises(RuleViolation) as refused:
            add_scenario(session, mid, ScenarioInput("Huisuitzetting", "", cost, ""))
        assert refused.value.field == "reference_cost"
    with pytest.raises(RuleViolation) as refused:
        add_scenario(session, mid, ScenarioInput("Huisuitzetting", "", "100", "x" * 301))
    assert refused.value.field == "source"
    with pytest.raises(RuleViolation) as refused:
        add_scenario(session, mid, ScenarioInput("Huis\u200buitzetting", "", "100", ""))
    assert refused.value.field == "name_nl"
    eviction = _scenario(session, mid, "Huisuitzetting", "10000")
    assert eviction.reference_cost_cents == 1_000_000 and eviction.name_en == "Huisuitzetting"
    set_scenario_active(session, eviction, False)
    with pytest.raises(RuleViolation) as refused:  # archived ones count too
        add_scenario(session, mid, ScenarioInput("huisuitzetting", "", "5", ""))
    assert refused.value.field == "name_nl"
    edit_scenario(session, eviction, ScenarioInput("Huisuitzetting", "Eviction", "12000,50", "CBS", is_example=True))
    assert (eviction.name_en, eviction.reference_cost_cents, eviction.source, eviction.is_example) == (
        "Eviction", 1_200_050, "CBS", True)


def test_order_archive_and_the_example_figures(session, town):
    mid = town["municipality_id"]
    examples = add_example_scenarios(session, mid)
    session.commit()
    assert [s.name_nl for s in scenarios_of(session, mid)] == [name for name, _en, _cents in EXAMPLE_SCENARIOS]
    assert all(s.is_example and s.source == EXAMPLE_SOURCE for s in examples)
    move_scenario(session, examples[2], -1)
    assert [s.id for s in scenarios_of(session, mid)][:3] == [examples[0].id, examples[2].id, examples[1].id]
    set_scenario_active(session, examples[0], False)
    assert examples[0].id not in [s.id for s in scenarios_of(session, mid, active_only=True)]
    assert scenarios_of(session, mid)[-1].id == examples[0].id  # archived ones last
    assert scenarios_of(session, municipality_id(session, town["elsewhere"])) == []


# --- a request's picks ---

def test_a_draft_picks_scenarios_of_its_own_municipality_with_a_likelihood(session, town):
    mid = town["municipality_id"]
    eviction, energy = _scenario(session, mid, "Huisuitzetting", 10_000), _scenario(session, mid, "Afsluiting", 1_500)
    foreign = _scenario(session, municipality_id(session, town["elsewhere"]), "Huisuitzetting", 9_000)
    worker = town["people"][town["north"].id][0]
    draft = _draft(session, town["north"], worker)
    for picks in ({str(foreign.id): "50"}, {"999999": "50"}, {"abc": "50"}):
        with pytest.raises(RuleViolation) as refused:
            choose_scenarios(session, draft, mid, picks)
        assert refused.value.field == "scenarios"
        session.rollback()
    for likelihood in ("101", "-1", "5.5", "veel", "²", "1000"):
        with pytest.raises(RuleViolation) as refused:
            choose_scenarios(session, draft, mid, {str(eviction.id): likelihood})
        assert refused.value.field == "scenarios"
        session.rollback()
    choose_scenarios(session, draft, mid, {str(eviction.id): "25", str(energy.id): "100"})
    session.commit()
    picked = scenarios_of_request(session, draft.id)
    assert [(p.scenario.id, p.likelihood_percent) for p in picked] == [(eviction.id, 25), (energy.id, 100)]
    assert expected_avoided_cents(picked) == 1_000_000 * 25 // 100 + 150_000
    # empty or 0 drops a pick; a changed likelihood is kept
    choose_scenarios(session, draft, mid, {str(eviction.id): "75", str(energy.id): ""})
    session.commit()
    assert [(p.scenario.id, p.likelihood_percent) for p in scenarios_of_request(session, draft.id)] == [
        (eviction.id, 75)]


def test_an_archived_scenario_stays_on_a_draft_that_picked_it_but_is_not_picked_anew(session, town):
    mid = town["municipality_id"]
    eviction = _scenario(session, mid, "Huisuitzetting", 10_000)
    north_worker, south_worker = town["people"][town["north"].id][0], town["people"][town["south"].id][0]
    draft = _draft(session, town["north"], north_worker)
    choose_scenarios(session, draft, mid, {str(eviction.id): "50"})
    set_scenario_active(session, eviction, False)
    session.commit()
    assert [s.id for s in offered_scenarios(session, town["north"], draft)] == [eviction.id]
    choose_scenarios(session, draft, mid, {str(eviction.id): "25"})
    other = _draft(session, town["south"], south_worker)
    assert offered_scenarios(session, town["south"], other) == []
    with pytest.raises(RuleViolation):
        choose_scenarios(session, other, mid, {str(eviction.id): "50"})


def test_a_posted_request_keeps_its_picks_and_its_texts_are_checked_for_personal_data(session, town):
    mid = town["municipality_id"]
    eviction = _scenario(session, mid, "Huisuitzetting", 10_000)
    worker = town["people"][town["north"].id][0]
    draft = _draft(session, town["north"], worker, legitimacy="Past in de regeling.",
                   own_contribution="Betaalt zelf de helft.")
    assert (draft.legitimacy, draft.own_contribution) == ("Past in de regeling.", "Betaalt zelf de helft.")
    choose_scenarios(session, draft, mid, {str(eviction.id): "50"})
    draft.own_contribution = "Bel haar op 06-12345678."
    with pytest.raises(RuleViolation) as refused:
        post_request(session, draft, town["north"], worker.id)
    assert refused.value.field == "own_contribution"
    draft.own_contribution = ""  # both are optional
    post_request(session, draft, town["north"], worker.id)
    session.commit()
    with pytest.raises(RuleViolation):  # a posted request's picks no longer change
        choose_scenarios(session, draft, mid, {})


def test_the_expected_value_rounds_each_term_half_a_cent_up(session, town):
    mid = town["municipality_id"]
    odd = add_scenario(session, mid, ScenarioInput("Oneven", "", "0,01", ""))
    other = add_scenario(session, mid, ScenarioInput("Ander", "", "0,03", ""))
    session.commit()
    worker = town["people"][town["north"].id][0]
    draft = _draft(session, town["north"], worker)
    choose_scenarios(session, draft, mid, {str(odd.id): "50", str(other.id): "10"})
    # 1 cent × 50% = 0.5 → 1; 3 cents × 10% = 0.3 → 0
    assert expected_avoided_cents(scenarios_of_request(session, draft.id)) == 1


# --- totals ---

def test_totals_count_granted_requests_only_per_team_and_district(session, town):
    mid = town["municipality_id"]
    eviction = _scenario(session, mid, "Huisuitzetting", 10_000)
    energy = _scenario(session, mid, "Afsluiting", 1_500)
    north, south, north_two = town["north"], town["south"], town["north_two"]
    _granted(session, town, north, 10_000, [(eviction, 25), (energy, 50)], "H-1")  # 2,500 + 750
    _granted(session, town, north, 5_000, [(energy, 100)], "H-2")  # 1,500
    _granted(session, town, north_two, 7_000, [(eviction, 10)], "H-3")  # 1,000
    _granted(session, town, south, 8_000, [(eviction, 75)], "H-4")  # 7,500
    _granted(session, town, south, 3_000, [], "H-5")  # no scenario: not counted
    cancelled = _granted(session, town, south, 4_000, [(eviction, 100)], "H-6")
    cancelled.status = RequestStatus.CANCELLED  # a grant cancelled later no longer counts
    session.add(cancelled)
    south_worker = town["people"][south.id][0]
    open_one = _draft(session, south, south_worker)
    choose_scenarios(session, open_one, mid, {str(eviction.id): "100"})
    post_request(session, open_one, south, south_worker.id)
    elsewhere = town["elsewhere"]
    foreign = _scenario(session, municipality_id(session, elsewhere), "Huisuitzetting", 10_000)
    _granted(session, town, elsewhere, 5_000, [(foreign, 100)], "H-7")
    session.commit()

    totals = avoided_cost_totals(session, mid, town["year"].id)
    by_team = {row.name: (row.requests, row.granted_cents, row.avoided_cents) for row in totals.by_team}
    assert by_team == {"Team Noord": (2, 15_000, 475_000), "Team Noord-Twee": (1, 7_000, 100_000),
                       "Team Zuid": (1, 8_000, 750_000)}
    north_district = session.get(District, north.district_id).name
    south_district = session.get(District, south.district_id).name
    by_district = {row.name: (row.requests, row.granted_cents, row.avoided_cents) for row in totals.by_district}
    assert by_district == {north_district: (3, 22_000, 575_000), south_district: (1, 8_000, 750_000)}
    assert (totals.total.requests, totals.total.granted_cents, totals.total.avoided_cents) == (4, 30_000, 1_325_000)
    # the same as each request's own expected value, summed directly
    direct = sum(expected_avoided_cents(scenarios_of_request(session, r.id)) for r in session.exec(
        select(SpendRequest).join(Team).join(District).where(
            District.municipality_id == mid, SpendRequest.status == RequestStatus.GRANTED)))
    assert direct == totals.total.avoided_cents
    # another budget year has none
    assert avoided_cost_totals(session, mid, None).total.requests == 0


def test_a_corrected_reference_cost_corrects_the_totals(session, town):
    mid = town["municipality_id"]
    eviction = _scenario(session, mid, "Huisuitzetting", 10_000)
    _granted(session, town, town["north"], 10_000, [(eviction, 50)], "H-1")
    assert avoided_cost_totals(session, mid, town["year"].id).total.avoided_cents == 500_000
    edit_scenario(session, eviction, ScenarioInput("Huisuitzetting", "", "8000", ""))
    session.commit()
    assert avoided_cost_totals(session, mid, town["year"].id).total.avoided_cents == 400_000
    assert session.exec(select(AvoidedCostScenario)).all()
