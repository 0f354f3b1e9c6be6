"""axe-core finds no violations on the request pages, in Dutch and English, in every state they show."""
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.requests import SpendRequest
from models.catalogue import add_default_provisions
from models.teams import District, Municipality, add_default_cost_categories
from tests.browser.test_accessibility import LANGUAGES, assert_accessible


@pytest.mark.parametrize("lang", LANGUAGES)
def test_request_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    add_default_cost_categories(session, municipality)
    add_default_provisions(session, municipality)  # the request form's "already checked" list
    session.commit()
    worker = make_member(team, "worker", name="Wim")
    consultant = make_member(team, "income_consultant", name="Ina")
    coordinator = make_member(team, "coordinator", name="Cora")
    page = signed_in_phone(worker)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto(f"/teams/{team.id}/aanvragen/nieuw")
    assert_accessible(page, lang, "new request form")
    page.locator("#amount").fill("75,505")
    page.locator("#cost_category_id").select_option(index=1)
    expect(page.locator("#alternatives input[type=checkbox]").first).to_be_visible()
    page.locator("#situation").fill("Bel 06-12345678")
    page.locator("button[value=post]").click()
    expect(page.locator("#amount-error")).to_be_visible()
    assert_accessible(page, lang, "request form with an error")

    page.locator("#amount").fill("75")
    page.locator("button[value=save]").click()
    expect(page.locator("[role=status]")).to_be_visible()
    assert_accessible(page, lang, "saved draft")
    page.locator("#prevents").fill("Afsluiting van de energie.")
    page.locator("#household_reference").fill("K-77")
    page.locator("button[value=post]").click()
    expect(page.locator("#situation-error")).to_contain_text("06-12345678")
    assert_accessible(page, lang, "draft refused for personal data")
    page.locator("#situation").fill("Vader met twee kinderen, inkomen valt weg.")
    page.locator("button[value=post]").click()
    expect(page.locator("[data-request-status]")).to_be_visible()
    page.locator("#body").fill("Is de energietoeslag al aangevraagd?")
    page.locator("#request-actions form[action$=reacties] button").click()
    expect(page.locator(".thread")).to_contain_text("energietoeslag")
    assert_accessible(page, lang, "request page of the requester")

    page.goto(f"/teams/{team.id}")
    assert_accessible(page, lang, "team home with a request, a draft-free inbox")

    request_id = session.exec(select(SpendRequest.id)).one()
    income = signed_in_phone(consultant)
    income.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    income.goto(f"/teams/{team.id}")
    expect(income.locator("[data-swipe-card]")).to_be_visible()
    assert_accessible(income, lang, "team home with a card to swipe")
    income.goto(f"/teams/{team.id}/aanvragen/{request_id}")
    income.locator("#request-actions form[action$=stem] button").click()
    expect(income.locator("#choice-error")).to_be_visible()
    assert_accessible(income, lang, "vote form with an error")
    income.locator("#stop_reason").fill("Eerst bijzondere bijstand aanvragen.")
    income.locator("#request-actions form[action$=stop] button").click()
    expect(income.locator(".notice--error")).to_be_visible()
    income.locator("details.timeline summary").click()
    assert_accessible(income, lang, "request page with a stop and the timeline open")

    admin = signed_in_phone(coordinator)
    admin.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    admin.goto(f"/beheer/teams/{team.id}/instellingen")
    assert_accessible(admin, lang, "team settings")
    admin.locator("#quorum").fill("nul")
    admin.locator("form button.button--primary").click()
    expect(admin.locator("#quorum-error")).to_be_visible()
    assert_accessible(admin, lang, "team settings with an error")
