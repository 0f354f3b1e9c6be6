"""The value triangle's texts and the picked scenarios go through the phone's outbox like the rest of the
request form: typed offline, kept across a reload without signal, and posted once the network returns."""
from playwright.sync_api import expect
from sqlmodel import select

from models.avoided_costs import ScenarioInput, add_scenario, scenarios_of_request
from models.requests import RequestStatus, SpendRequest
from tests.browser.test_offline_sync import (  # noqa: F401  (team_with_categories is a fixture)
    OUTBOX_FIELDS, _count, _fill_request, _outbox_becomes, _wait_for, team_with_categories)
from tests.browser.test_pwa import back_online, offline_on
from tests.card_world import municipality_id


def test_texts_and_scenarios_typed_offline_survive_a_reload_and_are_posted(signed_in_phone, team_with_categories,
                                                                          session):
    team, members = team_with_categories
    eviction = add_scenario(session, municipality_id(session, team), ScenarioInput("Huisuitzetting", "Eviction",
                                                                                   "10000", ""))
    session.commit()
    page = signed_in_phone(members["noor"])
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    offline_on(page, form_url)
    _fill_request(page)
    page.locator("#legitimacy").fill("Past in de regeling voor noodgevallen.")
    page.locator("#own_contribution").fill("Betaalt de helft zelf.")
    page.locator(f"#scenario_{eviction.id}").select_option("25")
    _wait_for(lambda: [f.get(f"scenario_{eviction.id}") for f in page.evaluate(OUTBOX_FIELDS) or []] == [["25"]])

    page.reload()  # still offline: the kept form, restored from the outbox
    expect(page.locator("#own_contribution")).to_have_value("Betaalt de helft zelf.")
    expect(page.locator(f"#scenario_{eviction.id}")).to_have_value("25")
    page.get_by_role("button", name="Versturen naar het team").click()
    _outbox_becomes(page, ["waiting"])

    back_online(page)
    _wait_for(lambda: _count(session, SpendRequest) == 1)
    request = session.exec(select(SpendRequest)).one()
    assert request.status == RequestStatus.OPEN
    assert (request.legitimacy, request.own_contribution) == ("Past in de regeling voor noodgevallen.",
                                                              "Betaalt de helft zelf.")
    assert [(p.scenario.id, p.likelihood_percent) for p in scenarios_of_request(session, request.id)] == [
        (eviction.id, 25)]
