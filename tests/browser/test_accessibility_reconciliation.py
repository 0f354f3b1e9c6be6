"""axe-core finds no violations on the coordinator's reconciliation queue and merchant rules
(web/reconciliation.py): open flags with their forms and a resolved one listed, the queue after a refused
resolution (the message beside its field), and the rules page after a refused rule, on a phone (412 px) and
at a desk (1280 px), in Dutch and English. Nothing sticks out sideways on a phone."""
import pytest
from playwright.sync_api import expect

from models.bank_statements import BankStatement
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import card_on, granted_request, loaded, municipality_id
from tests.http.test_reconciliation import TEAM_IBAN, bank_line, flag_on

PHONE = {"width": 412, "height": 915}
DESK = {"width": 1280, "height": 800}


def _both_sizes(page, lang, what):
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"{what} at {size['width']} px")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (what, size)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_queue_and_rules_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost met een lange naam")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, make_member(team, "worker", name="Wim"),
                              make_member(team, "worker", name="Vera"), 4_500)
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)
    statement = BankStatement(municipality_id=municipality_id(session, team), team_id=team.id, account_iban=TEAM_IBAN,
                              format="camt.053.001.02", statement_ref="S-1", currency="EUR", file_name="s.xml")
    session.add(statement)
    session.flush()
    pharmacy = bank_line(session, statement, "a", -3_820, "Apotheek De Roos met een heel lange winkelnaam",
                         merchant_category_code="5912", match="spending", card_id=card.id, request_id=request.id,
                         description="BEA, Betaalpas Apotheek De Roos,PAS123 NR:CT123456, 03.12.26/14:12 AMSTERDAM")
    flag_on(session, team, pharmacy, "purpose", amount_cents=-3_820, category="groceries", mcc="5912", by="mcc")
    cash = bank_line(session, statement, "b", -2_000, "Geldautomaat", match="spending", card_id=card.id,
                     request_id=request.id)
    flag_on(session, team, cash, "cash", amount_cents=-2_000, code="CASH")
    done = flag_on(session, team, bank_line(session, statement, "c", -150, "Bankkosten"), "unmatched",
                   hint="bank_costs")
    session.commit()
    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto("/beheer/bank/controle")
    form = page.locator(f"#flag-{done.id} form")
    form.locator("input[value=accepted]").check()
    form.locator("textarea").fill("Kosten van de bank voor het teamaccount.")
    form.locator("button").click()
    expect(page.locator(f'[data-resolved-flag="{done.id}"]')).to_be_visible()
    _both_sizes(page, lang, "the queue with open and resolved flags")

    page.set_viewport_size(PHONE)
    page.locator("[data-flag] form").first.locator("input[value=accepted]").check()
    page.locator("[data-flag] form button").first.click()
    expect(page.locator("#note-error")).to_be_visible()
    _both_sizes(page, lang, "the queue with a refused resolution")

    page.set_viewport_size(PHONE)
    page.goto("/beheer/bank/winkels")
    _both_sizes(page, lang, "the merchant rules")
    page.set_viewport_size(PHONE)
    section = page.locator("section[id^=category-]").nth(4)
    section.locator("input[value=mcc]").check()
    section.locator("input[name=value]").fill("59x2")
    section.locator("button").last.click()
    expect(page.locator("#value-error")).to_be_visible()
    _both_sizes(page, lang, "the merchant rules with a refused rule")
