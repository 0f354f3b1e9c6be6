"""axe-core finds no violations on the catalogue's pages (cost categories, other provisions, with refusals beside
their fields), on a phone and at a desk (1280 px), nor where a worker and a voter pick a provision, in Dutch and
English."""
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.catalogue import ProvisionInput, add_provision
from models.requests import SpendRequest
from models.teams import CostCategory, create_municipality
from tests.browser.test_accessibility import LANGUAGES, assert_accessible

DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    municipality, _year = create_municipality(session, "Gemeente Catalogus")
    session.commit()
    team = make_team("Team Oost", municipality=municipality)
    groceries = session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id,
                                                        CostCategory.code == "groceries")).one()
    add_provision(session, municipality.id, ProvisionInput(
        name="Buurtfonds Oost", description="Kleine giften voor bewoners van Oost.",
        link="https://buurtfonds.example.nl/aanvragen", category_ids=[str(groceries.id)]))
    session.commit()
    page = signed_in_phone(make_member(team, "coordinator", name="Cora"))
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    for size in (page.viewport_size, DESK):
        page.set_viewport_size(size)
        page.goto("/beheer/kostensoorten")
        assert_accessible(page, lang, f"cost categories at {size['width']} px")
        page.goto("/beheer/voorzieningen")
        assert_accessible(page, lang, f"other provisions at {size['width']} px")
    page.set_viewport_size({"width": 412, "height": 915})

    page.goto("/beheer/kostensoorten")
    page.locator("#name_nl").fill("Energie")
    page.locator("form[action$=kostensoorten] button").click()
    expect(page.locator("#name_nl-error")).to_be_visible()
    assert_accessible(page, lang, "a cost category refused beside its name")
    page.goto(f"/beheer/kostensoorten/{groceries.id}")
    page.locator("#position").fill("99")
    page.locator("form[action$=volgorde] button").click()
    expect(page.locator("#position-error")).to_be_visible()
    assert_accessible(page, lang, "a cost category's page with a refused place")

    page.goto("/beheer/voorzieningen")
    page.locator("#name").fill("Nieuw fonds")
    page.locator("#link").fill("javascript:alert(1)")
    page.locator("form[action$=voorzieningen] button").click()
    expect(page.locator("#link-error")).to_be_visible()
    assert_accessible(page, lang, "a provision refused beside its link")
    page.get_by_role("link", name="Buurtfonds Oost").click()
    expect(page.locator("#name")).to_have_value("Buurtfonds Oost")
    assert_accessible(page, lang, "a provision's page")

    worker = make_member(team, "worker", name="Wim")
    voter = make_member(team, "worker", name="Vera")
    request = SpendRequest(team_id=team.id, requester_id=worker.id, status="open", amount_cents=5_000,
                           cost_category_id=groceries.id, situation="Vader met twee kinderen.", prevents="Afsluiting.")
    session.add(request)
    session.commit()
    phone = signed_in_phone(worker)
    phone.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    phone.goto(f"/teams/{team.id}/aanvragen/nieuw")
    phone.locator("#cost_category_id").select_option(str(groceries.id))
    expect(phone.locator("#alternatives").get_by_text("Kleine giften voor bewoners van Oost.")).to_be_visible()
    assert_accessible(phone, lang, "the request form with the provisions of a category")
    phone = signed_in_phone(voter)
    phone.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    phone.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    phone.locator("input[name=choice][value=alternative]").check()  # the list opens with its choice
    phone.locator("details.provision-list summary").click()
    expect(phone.locator("details.provision-list").get_by_text("Buurtfonds Oost", exact=True)).to_be_visible()
    assert_accessible(phone, lang, "the vote with the provisions of the request's category")
