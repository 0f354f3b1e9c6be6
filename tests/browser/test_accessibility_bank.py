"""axe-core finds no violations on the coordinator's bank statement page (web/bank.py): empty, and after an
upload of a good and a refused file (the result per file, the refusal beside its file, a team account's
difference in red with its explaining lines opened, a card with money), on a phone (412 px) and at a desk
(1280 px), in Dutch and English."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import card_on, granted_request, loaded
from tests.unit.test_camt_reader import TEAM_IBAN, ing_statement

PHONE = {"width": 412, "height": 915}
DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bank_page_has_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost met een lange naam")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, make_member(team, "worker", name="Wim"),
                              make_member(team, "worker", name="Vera"), 4_500)
    loaded(session, team, [card_on(session, team, request, coordinator)], coordinator)
    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        page.goto("/beheer/bank")
        assert_accessible(page, lang, f"the bank page at {size['width']} px")

    page.set_viewport_size(PHONE)
    page.locator("#statement").set_input_files([
        {"name": "ing.xml", "mimeType": "application/xml", "buffer": ing_statement()},
        {"name": "fout.xml", "mimeType": "application/xml", "buffer": ing_statement(closing="1055.01")},
    ])
    page.locator("form[enctype] button").click()
    expect(page.locator(".bank-results__refused")).to_contain_text("fout.xml")
    expect(page.locator(".bank-results")).to_contain_text("ing.xml")
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"the bank page after an upload with a refused file at {size['width']} px")

    page.goto("/beheer/bank")
    expect(page.locator(".balances__off").first).to_be_visible()
    page.locator(".balances__explain summary").first.click()
    expect(page.locator(".balances__items li").first).to_be_visible()
    expect(page.locator("[data-card]")).to_have_count(1)
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"the bank page with a difference explained at {size['width']} px")
        # nothing sticks out sideways on a phone: the balances stack
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
