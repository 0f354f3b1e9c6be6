"""Avoided costs over HTTP: the coordinator's list of scenarios (add, edit, move, archive; another
municipality's is 404; team roles 403), a request posted with the value triangle's texts and its scenarios,
shown on the request page with its expected avoided cost, the outbox's replay keeping them, and the totals
page counting granted requests only."""
import uuid

import pytest
from sqlalchemy import func
from sqlmodel import select

from models.audit import AuditEvent
from models.avoided_costs import (
    AvoidedCostScenario, RequestScenario, ScenarioInput, add_scenario, scenarios_of_request)
from models.decisions import decide
from models.members import active_membership
from models.requests import RequestStatus, SpendRequest
from models.teams import District, create_municipality
from models.votes import cast_vote
from tests.http.test_requests import GOOD, team_world  # noqa: F401  (a fixture)

NBSP = "\u00a0"


@pytest.fixture
def world(session, team_world):
    """team_world with a coordinator, two scenarios of its municipality and one of another municipality."""
    municipality_id = session.get(District, team_world["team"].district_id).municipality_id
    eviction = add_scenario(session, municipality_id, ScenarioInput("Huisuitzetting", "Eviction", "10000",
                                                                    "Rapport huisuitzettingen 2025"))
    energy = add_scenario(session, municipality_id, ScenarioInput("Afsluiting van energie", "Energy disconnection",
                                                                  "1500", "", is_example=True))
    elsewhere, _year = create_municipality(session, "Gemeente Elders")
    foreign = add_scenario(session, elsewhere.id, ScenarioInput("Huisuitzetting", "", "9000", ""))
    session.commit()
    return {**team_world, "municipality_id": municipality_id, "eviction": eviction, "energy": energy,
            "foreign": foreign}


@pytest.fixture
def coordinator(world, make_member):
    return make_member(world["team"], "coordinator", name="Cora")


def _count(session, model, *where):
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _form(world, **changes):
    return {**GOOD, "cost_category_id": str(world["groceries"].id), "action": "post",
            "legitimacy": "Valt onder de bijzondere bijstand, maar die duurt te lang.",
            "own_contribution": "Betaalt de helft zelf en gaat naar de schuldhulp.",
            f"scenario_{world['eviction'].id}": "25", f"scenario_{world['energy'].id}": "", **changes}


# --- the list of scenarios ---

def test_the_coordinator_adds_edits_moves_and_archives_scenarios(client, session, world, coordinator, login_as):
    login_as(coordinator)
    page = client.get("/beheer/rendement").text
    assert "Huisuitzetting" in page and "Rapport huisuitzettingen 2025" in page and "voorbeeldbedrag" in page
    response = client.post("/beheer/rendement", data={"name_nl": "Uithuisplaatsing", "name_en": "Child placed out",
                                                      "reference_cost": "50000", "source": "Jaarverslag jeugd"})
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/rendement"
    added = session.exec(select(AvoidedCostScenario).where(AvoidedCostScenario.name_nl == "Uithuisplaatsing")).one()
    assert (added.reference_cost_cents, added.is_example, added.position) == (5_000_000, False, 2)

    refused = client.post("/beheer/rendement", data={"name_nl": "huisuitzetting", "reference_cost": "nul"})
    assert refused.status_code == 422 and 'id="name_nl-error"' in refused.text and 'value="nul"' in refused.text
    refused = client.post("/beheer/rendement", data={"name_nl": "Beslag", "reference_cost": "0"})
    assert refused.status_code == 422 and 'id="reference_cost-error"' in refused.text
    assert _count(session, AvoidedCostScenario, AvoidedCostScenario.municipality_id == world["municipality_id"]) == 3

    url = f"/beheer/rendement/{added.id}"
    assert 'value="50000,00"' in client.get(url).text
    assert client.post(url, data={"name_nl": "Uithuisplaatsing kind", "name_en": "Child placed out of home",
                                  "reference_cost": "45000", "source": "", "is_example": "1"}).status_code == 303
    session.expire_all()
    assert (added.name_nl, added.reference_cost_cents, added.is_example) == ("Uithuisplaatsing kind", 4_500_000, True)
    assert client.post(f"{url}/volgorde", data={"by": "-1"}).status_code == 303
    session.expire_all()
    assert added.position == 1
    assert client.post(f"{url}/archiveren").status_code == 303
    session.expire_all()
    assert added.archived_at is not None
    login_as(world["members"]["worker"])
    assert "Uithuisplaatsing" not in client.get(f"/teams/{world['team'].id}/aanvragen/nieuw").text
    login_as(coordinator)
    assert client.post(f"{url}/terugzetten").status_code == 303
    session.expire_all()
    assert added.archived_at is None
    # each change is in the municipality's audit trail, as the coordinator's (refusals are not)
    assert session.exec(select(AuditEvent.action).where(AuditEvent.actor_id == coordinator.id,
                                                        AuditEvent.municipality_id == world["municipality_id"])
                        .order_by(AuditEvent.id)).all() == [
        "scenario_added", "scenario_changed", "scenario_moved", "scenario_archived", "scenario_restored"]


def test_another_municipalitys_scenario_is_not_found(client, world, coordinator, login_as):
    login_as(coordinator)
    url = f"/beheer/rendement/{world['foreign'].id}"
    assert client.get(url).status_code == 404
    for action in ("", "/archiveren", "/terugzetten", "/volgorde"):
        assert client.post(url + action, data={"name_nl": "x", "reference_cost": "1", "by": "1"}).status_code == 404
    assert url + '"' not in client.get("/beheer/rendement").text


@pytest.mark.parametrize("url", ["/beheer/rendement", "/beheer/rendement/opbrengst"])
def test_team_roles_may_not_use_the_list_or_the_totals(client, world, login_as, url):
    login_as(world["members"]["worker"])
    assert client.get(url).status_code == 403
    assert client.post("/beheer/rendement", data={"name_nl": "x", "reference_cost": "1"}).status_code == 403


# --- a request ---

def test_a_request_posted_with_its_texts_and_scenarios_shows_them_and_its_expected_avoided_cost(
        client, session, world, login_as):
    login_as(world["members"]["worker"])
    form = client.get(f"/teams/{world['team'].id}/aanvragen/nieuw").text
    assert f'name="scenario_{world["eviction"].id}"' in form and 'name="legitimacy"' in form
    assert f'name="scenario_{world["foreign"].id}"' not in form
    response = client.post(f"/teams/{world['team'].id}/aanvragen", data=_form(world))
    assert response.status_code == 303
    request = session.exec(select(SpendRequest)).one()
    assert request.status == RequestStatus.OPEN
    assert request.legitimacy.startswith("Valt onder") and request.own_contribution.startswith("Betaalt de helft")
    assert [(p.scenario.id, p.likelihood_percent) for p in scenarios_of_request(session, request.id)] == [
        (world["eviction"].id, 25)]
    page = client.get(response.headers["Location"]).text
    assert f"Voorkomt naar verwachting €{NBSP}2.500,00 aan kosten" in page
    assert "Huisuitzetting: 25% kans op" in page and 'id="avoided-method"' in page
    assert "Betaalt de helft zelf" in page and "Valt onder de bijzondere bijstand" in page
    client.post("/taal", data={"lang": "en", "next": "/"})
    english = client.get(response.headers["Location"]).text
    assert "Eviction" in english


def test_a_draft_keeps_its_picks_and_refuses_foreign_or_impossible_ones(client, session, world, login_as):
    login_as(world["members"]["worker"])
    url = f"/teams/{world['team'].id}/aanvragen"
    response = client.post(url, data=_form(world, action="save", **{f"scenario_{world['energy'].id}": "75"}))
    assert response.status_code == 303
    draft = session.exec(select(SpendRequest)).one()
    form = client.get(f"{url}/{draft.id}").text
    assert 'value="75" selected' in form and 'value="25" selected' in form
    for changes in ({f"scenario_{world['foreign'].id}": "50"}, {f"scenario_{world['eviction'].id}": "150"},
                    {"scenario_x": "50"}):
        refused = client.post(f"{url}/{draft.id}", data=_form(world, action="save", **changes))
        assert refused.status_code == 422 and 'id="scenarios-error"' in refused.text
    assert _count(session, RequestScenario) == 2
    refused = client.post(f"{url}/{draft.id}", data=_form(world, legitimacy="Mail naar jan@example.nl."))
    assert refused.status_code == 422 and 'id="legitimacy-error"' in refused.text
    session.expire_all()
    assert session.get(SpendRequest, draft.id).status == RequestStatus.DRAFT


def test_the_outbox_replay_keeps_the_texts_and_the_scenarios(client, session, world, login_as):
    login_as(world["members"]["worker"])
    operation, url = str(uuid.uuid4()), f"/teams/{world['team'].id}/aanvragen"
    headers = {"Accept": "application/json", "Teambudget-Operation": operation}
    data = _form(world, **{f"scenario_{world['energy'].id}": "100"})
    first = client.post(url, data=data, headers=headers)
    again = client.post(url, data=data, headers=headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert again.headers["Teambudget-Operation-Replayed"] == "true"
    request = session.exec(select(SpendRequest)).one()
    assert request.status == RequestStatus.OPEN and request.own_contribution.startswith("Betaalt")
    assert _count(session, RequestScenario) == 2
    # a refused pick from the outbox leaves nothing behind
    refused = client.post(url, data=_form(world, **{f"scenario_{world['foreign'].id}": "50"}),
                          headers={**headers, "Teambudget-Operation": str(uuid.uuid4())})
    assert refused.status_code == 422 and refused.get_json()["field"] == "scenarios"
    assert _count(session, SpendRequest) == 1


# --- the totals ---

def test_the_totals_page_counts_granted_requests_and_explains_the_method(client, session, world, coordinator,
                                                                       login_as):
    login_as(world["members"]["worker"])
    client.post(f"/teams/{world['team'].id}/aanvragen", data=_form(world))
    request = session.exec(select(SpendRequest)).one()
    login_as(coordinator)
    page = client.get("/beheer/rendement/opbrengst").text
    assert "Hoe rekenen we dit?" in page and "nog geen toegekende aanvraag" in page
    team = world["team"]
    team.quorum = 1
    session.add(team)
    cast_vote(session, request, active_membership(session, world["members"]["worker2"].id, team.id), "approve")
    decide(session, request, team)
    session.commit()
    assert request.status == RequestStatus.GRANTED
    page = client.get("/beheer/rendement/opbrengst").text
    # one granted request: the team, its district and the total show "< 5" and no amounts (reports' rule;
    # the amounts themselves: tests/http/test_avoided_cost_suppression.py)
    assert "Team Oost" in page and "&lt; 5" in page and "2.500,00" not in page and "75,50" not in page
    assert client.get("/beheer/rendement/opbrengst?jaar=abc").status_code == 200
