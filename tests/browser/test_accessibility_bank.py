"""axe-core finds no violations on the coordinator's bank statement page (web/bank.py): empty, and after an
upload of a good and a refused file (the result per file, the refusal beside its file), on a phone (412 px)
and at a desk (1280 px), in Dutch and English."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.unit.test_camt_reader import TEAM_IBAN, ing_statement

PHONE = {"width": 412, "height": 915}
DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bank_page_has_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost met een lange naam")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    page = signed_in_phone(make_member(team, "coordinator", name="Cora"))
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
