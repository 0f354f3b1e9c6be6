"""axe-core finds no violations on the avoided-cost pages (web/avoided_costs.py): the list of scenarios (with a
refused addition's message), one scenario, the totals per team and district with their method, the request
form with its scenarios to pick and the request page with its expected avoided cost, on a phone (412 px) and
at a desk (1280 px), in Dutch and English."""
import pytest
from playwright.sync_api import expect

from models.avoided_costs import RequestScenario, ScenarioInput, add_example_scenarios, add_scenario
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import granted_request, municipality_id

PHONE = {"width": 412, "height": 915}
DESK = {"width": 1280, "height": 800}


def _check(page, lang, what):
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"{what} at {size['width']} px")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (what, size)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_avoided_cost_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team,
                                                   make_member):
    team = make_team("Team Oost met een lange naam")
    coordinator = make_member(team, "coordinator", name="Cora")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    request = granted_request(session, team, worker, voter, 4_500)
    examples = add_example_scenarios(session, municipality_id(session, team))
    sourced = add_scenario(session, municipality_id(session, team), ScenarioInput(
        "Beslag op het loon", "Wage garnishment", "2500", "Jaarverslag van de deurwaarders, hoofdstuk 3"))
    session.add(RequestScenario(request_id=request.id, scenario_id=examples[0].id, likelihood_percent=25))
    session.add(RequestScenario(request_id=request.id, scenario_id=sourced.id, likelihood_percent=100))
    session.commit()

    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    page.goto("/beheer/rendement")
    _check(page, lang, "the list of scenarios")
    page.locator("#name_nl").fill("Huisuitzetting")
    page.locator("#reference_cost").fill("nul")
    page.locator("form[action='/beheer/rendement'] button").click()
    expect(page.locator("#name_nl-error")).to_be_visible()
    _check(page, lang, "the list of scenarios with a refused addition")
    page.goto(f"/beheer/rendement/{sourced.id}")
    _check(page, lang, "one scenario")
    page.goto("/beheer/rendement/opbrengst")
    expect(page.locator("#teams-caption")).to_be_visible()
    _check(page, lang, "the totals per team and district")

    page = signed_in_phone(worker)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    page.goto(f"/teams/{team.id}/aanvragen/nieuw")
    page.locator(f"#scenario_{examples[1].id}").select_option("50")
    _check(page, lang, "the request form with its scenarios")
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    page.locator("#avoided-method summary").click()
    expect(page.locator("#avoided-title")).to_be_visible()
    _check(page, lang, "the request page with its expected avoided cost")
