"""axe-core finds no violations on the card pages, in Dutch and English: the coordinator's cards and
batches (with a refused card, a batch open), the request page with its card, the handover page with the QR
code, and the client's pages (the card, thanks, a used link)."""
import pytest
from playwright.sync_api import expect

from models.batches import create_batch
from models.cards import register_card
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id


@pytest.fixture
def app_config(app_config):
    """The live server knows the foundation's and the card bank's accounts."""
    return {**app_config, **SEPA_CONFIG}


def _in(page, lang, server_url):
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_card_pages_have_no_axe_violations(lang, signed_in_phone, browser, pixel_7, server_url, session,
                                           make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=100_000)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    waiting = granted_request(session, team, worker, voter, 4_000, household="H-1")
    handed = granted_request(session, team, worker, voter, 6_000, household="H-2")
    loaded(session, team, [card_on(session, team, handed, coordinator, last_four="1234")], coordinator)
    waiting_card = card_on(session, team, waiting, coordinator, last_four="5678")
    register_card(session, team, "KB-0009", "9999", actor_id=coordinator.id)
    session.commit()

    desk = _in(signed_in_phone(coordinator), lang, server_url)
    desk.goto("/beheer/kaarten")
    assert_accessible(desk, lang, "cards and batches")
    desk.locator(f"#reference_{team.id}").fill("KB-0010")
    desk.locator(f"#last_four_{team.id}").fill("12")
    desk.locator(f"#last_four_{team.id}").press("Enter")
    expect(desk.locator(f"#last_four_{team.id}-error")).to_be_visible()
    expect(desk.locator(f"#reference_{team.id}")).to_have_value("KB-0010")
    assert_accessible(desk, lang, "cards and batches, a card refused")
    batch = create_batch(session, municipality_id(session, team), card_ids=[waiting_card.id],
                         top_ups={team.id: 4_000}, actor_id=coordinator.id)
    session.commit()
    desk.goto(f"/beheer/kaarten/opdrachten/{batch.id}")
    expect(desk.locator("[data-batch-state]")).to_be_visible()
    assert_accessible(desk, lang, "an open batch")
    with desk.expect_download():
        desk.locator("form[action$='/download'] button").click()
    desk.reload()
    desk.once("dialog", lambda dialog: dialog.accept())  # "did the bank really execute it?"
    desk.locator("form[action$='/uitgevoerd'] button").click()
    expect(desk.locator("form[action$='/uitgevoerd']")).to_have_count(0)
    expect(desk.locator("[data-batch-state]")).to_contain_text({"nl": "Uitgevoerd op", "en": "Executed on"}[lang])
    assert_accessible(desk, lang, "an executed batch")

    phone = _in(signed_in_phone(worker), lang, server_url)
    choosing = granted_request(session, team, worker, voter, 2_500, household="H-3")
    session.commit()
    phone.goto(f"/teams/{team.id}/aanvragen/{choosing.id}")
    expect(phone.locator("#card_id")).to_be_visible()
    assert_accessible(phone, lang, "request page with the card choice")
    phone.locator("#card_id option").first.evaluate("option => { option.value = '0'; }")  # a card that is gone
    phone.locator("#request-card form button").click()
    expect(phone.locator("#card_id-error")).to_be_visible()
    expect(phone.locator("#card_id")).to_have_attribute("aria-invalid", "true")
    assert_accessible(phone, lang, "request page with the card choice refused")
    phone.goto(f"/teams/{team.id}/aanvragen/{handed.id}")
    expect(phone.locator("[data-card-state]")).to_have_attribute("data-card-state", "loaded")
    assert_accessible(phone, lang, "request page with a loaded card")
    phone.locator("#request-card form button").first.click()
    expect(phone.locator(".qr-code")).to_be_visible()
    assert_accessible(phone, lang, "handover page with QR code")
    link = phone.locator("#handover-link").input_value()

    client_context = browser.new_context(**pixel_7)  # the client's phone: no account
    try:
        client = _in(client_context.new_page(), lang, server_url)
        client.goto(link)
        expect(client.locator("main")).to_contain_text("1234")
        assert_accessible(client, lang, "the client's card page")
        client.locator("main form button.client-confirm").click()
        expect(client.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(client, lang, "the client's thanks")
        client.goto(link)
        assert_accessible(client, lang, "a used handover link")
    finally:
        client_context.close()
