"""The outreach worker's and the client's screens on a phone (issue 14), on a Pixel 7 and a 360-px phone, in
Dutch and English: the next step first on a granted request, one camera button for the receipt, every
personal-data finding at once, the request form's cost categories offline, the confirmation after posting,
and the client's page in the phone's language. axe passes on each (assert_accessible also checks that nothing
is wider than the phone), and a screenshot of each is kept in test-results/screenshots/.
"""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.cards import register_card
from models.catalogue import add_default_provisions
from models.handover import create_handover
from models.requests import SpendRequest
from models.teams import District, Municipality
from tests.browser.test_accessibility import assert_accessible, translate  # noqa: F401  (translate: a fixture)
from tests.browser.test_pwa import kept_online
from tests.card_world import card_on, granted_request, loaded
from tests.http.test_receipts import grant

#: pytest-playwright empties test-results/ when a run starts; SCREENSHOTS_DIR keeps them elsewhere
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "test-results" / "screenshots")
#: the two phones: a Pixel 7 (412 px wide) and a small 360-px phone
PHONES = {"pixel7": {}, "360px": {"viewport": {"width": 360, "height": 740}}}
#: the phone's own language, as its browser asks for it (Accept-Language)
PHONE_LOCALES = {"nl": "nl-NL", "en": "en-GB"}
LANGUAGES = ["nl", "en"]
BSN, PHONE_NUMBER, EMAIL = "111222333", "06-12345678", "hulp@voorbeeld.nl"


def keep_screenshot(page, name, lang, device):
    """A screenshot of the whole page, kept as a test artefact (test-results/ is not in git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-{device}.png"), full_page=True)


@pytest.fixture
def member_phone(signed_in_phone, server_url):
    """A signed-in phone of `device` whose member chose `lang`."""
    def open_as(member, lang, device):
        page = signed_in_phone(member, **PHONES[device])
        page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
        return page
    return open_as


@pytest.fixture
def team_with_provisions(session, make_team, make_member):
    """Team Oost with the cost categories and the other provisions, and a worker, Noor."""
    team = make_team("Team Oost", annual_budget_cents=50_000)
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    from models.teams import add_default_cost_categories
    add_default_cost_categories(session, municipality)
    add_default_provisions(session, municipality)
    session.commit()
    return team, make_member(team, "worker", name="Noor")


def _first_screen(page, selector):
    """Where `selector` starts, in px from the top of the page."""
    return page.locator(selector).first.bounding_box()["y"] + page.evaluate("scrollY")


@pytest.mark.parametrize("device", PHONES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_granted_request_shows_its_next_step_first(lang, device, member_phone, translate, session, make_team,
                                                     make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 7_500)
    register_card(session, team, "K-1", "1111", actor_id=coordinator.id)
    session.commit()
    page = member_phone(worker, lang, device)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    step = page.locator("#next-step")
    expect(step).to_contain_text(translate(lang, "Volgende stap"))
    take = page.get_by_role("button", name=translate(lang, "Kaart pakken"))
    # on the first screen, and before the votes and the discussion
    assert _first_screen(page, "#next-step") < page.viewport_size["height"]
    assert _first_screen(page, "#next-step") < _first_screen(page, "#request-card") < _first_screen(page, "#status-title")
    expect(take).to_be_visible()
    assert _first_screen(page, "#status-title") > take.bounding_box()["y"]
    assert_accessible(page, lang, f"granted request, next step ({device})")
    keep_screenshot(page, "request-next-step", lang, device)


@pytest.mark.parametrize("device", PHONES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_receipt_step_has_one_camera_button_and_what_is_left(lang, device, member_phone, translate, session,
                                                                 make_team, make_member):
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    request = grant(session, team, worker)  # the client has the card
    page = member_phone(worker, lang, device)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    expect(page.locator("#next-step")).to_have_attribute("data-next-step", "photograph_receipt")
    camera = page.get_by_role("button", name=translate(lang, "Foto van het bonnetje maken"))
    expect(camera).to_be_visible()
    expect(page.locator("#receipts input[type=file]:visible")).to_have_count(0)
    expect(page.locator("[data-receipt-left]")).to_contain_text(translate(lang, "Nog over op de kaart: %(left)s", left=""))
    assert _first_screen(page, "#receipts") < _first_screen(page, "#status-title")
    assert_accessible(page, lang, f"granted request, receipt ({device})")
    keep_screenshot(page, "request-receipt", lang, device)


@pytest.mark.parametrize("device", PHONES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_personal_data_finding_is_shown_at_once(lang, device, member_phone, translate, team_with_provisions):
    team, noor = team_with_provisions
    page = member_phone(noor, lang, device)
    page.goto(f"/teams/{team.id}/aanvragen/nieuw")
    page.locator("#amount").fill("75")
    page.locator("#cost_category_id").select_option(index=1)
    page.locator("#situation").fill(f"Moeder, BSN {BSN}, bel haar op {PHONE_NUMBER} voor de afspraak.")
    page.locator("#prevents").fill("Dat de kinderen zonder eten zitten.")
    page.locator("#alternatives_note").fill(f"De bank, mail {EMAIL}.")
    page.locator("#household_reference").fill("D-2026-0042")
    page.get_by_role("button", name=translate(lang, "Versturen naar het team")).click()
    notice = page.locator("[data-outbox-notice][role=alert]")
    for fragment in (BSN, PHONE_NUMBER, EMAIL):
        expect(notice).to_contain_text(fragment)  # all at once, not one after the other
    expect(notice.locator("a")).to_have_count(0)  # a refusal waits in no outbox: no link to it
    expect(page.locator("[data-privacy-marks] mark")).to_have_text([BSN, PHONE_NUMBER, EMAIL])
    expect(page.locator("#situation")).to_be_focused()
    expect(page.locator("#alternatives_note")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, lang, f"request form, personal data refused ({device})")
    keep_screenshot(page, "request-form-refused", lang, device)


@pytest.mark.parametrize("device", PHONES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_offline_the_request_form_shows_the_chosen_categorys_provisions(lang, device, member_phone, translate,
                                                                        team_with_provisions):
    team, noor = team_with_provisions
    page = member_phone(noor, lang, device)
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    page.goto(form_url)
    kept_online(page, form_url)
    page.context.set_offline(True)
    page.reload()  # the kept page, from the service worker
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    categories = page.locator("#cost_category_id option")
    assert categories.count() > 2  # the cost categories came with the cached page
    page.locator("#cost_category_id").select_option(index=1)
    boxes = page.locator("#alternatives input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    expect(page.locator("#alternatives")).not_to_contain_text(translate(lang, "Kies eerst waarvoor het geld is."))
    boxes.first.check()
    page.locator("#cost_category_id").select_option(index=2)  # another category: its own list, from the page
    expect(page.locator("#alternatives")).not_to_contain_text(translate(lang, "Kies eerst waarvoor het geld is."))
    assert_accessible(page, lang, f"request form offline ({device})")
    keep_screenshot(page, "request-form-offline", lang, device)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_after_posting_the_worker_is_told_it_went_to_the_team(lang, member_phone, translate, session,
                                                              team_with_provisions):
    team, noor = team_with_provisions
    page = member_phone(noor, lang, "360px")
    page.goto(f"/teams/{team.id}/aanvragen/nieuw")
    page.locator("#amount").fill("75")
    page.locator("#cost_category_id").select_option(index=1)
    page.locator("#situation").fill("Moeder van drie kinderen met een uitkering, wacht op haar bezwaar.")
    page.locator("#prevents").fill("Dat de kinderen deze week zonder eten zitten.")
    page.locator("#household_reference").fill("D-2026-0042")
    page.get_by_role("button", name=translate(lang, "Versturen naar het team")).click()
    expect(page.get_by_role("status").filter(has_text=translate(lang, "Verstuurd naar je team."))).to_be_visible()
    assert "verstuurd" not in page.url  # a reload does not say it again
    session.expire_all()
    assert session.exec(select(SpendRequest)).one().status == "open"
    assert_accessible(page, lang, "request just posted")


@pytest.mark.parametrize("device", PHONES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_clients_page_speaks_the_phones_language(lang, device, phone, translate, session, make_team, make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim Werker"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    worker.organisation = "Buurtteam Oost"
    session.add(worker)
    request = granted_request(session, team, worker, voter, 7_235)
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)
    token = create_handover(session, card, request, member_id=worker.id)
    session.commit()
    page, _authenticator = phone(locale=PHONE_LOCALES[lang], **PHONES[device])  # no account, no cookie
    page.goto(f"/kaart/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(translate(lang, "Je kaart"))
    switch = page.locator(".client-language")
    assert _first_screen(page, ".client-language") < _first_screen(page, "h1")  # the switch first, and large
    assert switch.get_by_role("button").first.bounding_box()["height"] >= 48
    expect(page.locator(".client-card__amount")).to_contain_text("€72.35" if lang == "en" else "€\xa072,35")
    expect(page.locator("[data-client-contact]")).to_contain_text("Wim")
    expect(page.locator("[data-client-contact]")).not_to_contain_text("Werker")
    assert_accessible(page, lang, f"client's card page ({device})")
    keep_screenshot(page, "client-card", lang, device)

    page.get_by_role("button", name=translate(lang, "Ik heb de kaart gekregen")).click()
    expect(page.locator("[data-client-confirmed]")).to_be_visible()
    expect(page.locator(".client-card__amount")).to_be_visible()  # still what it is for, and whom to ask
    assert_accessible(page, lang, f"client's card confirmed ({device})")
    keep_screenshot(page, "client-card-confirmed", lang, device)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(translate(lang, "Al bevestigd"))
