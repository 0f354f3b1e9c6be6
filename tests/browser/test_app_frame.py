"""The approver's inbox and the frame around every page, on a Pixel 7 and a 360-px phone, in both languages.

- A stop shows on its inbox card, which offers no swipe until the stop is lifted.
- A mouse drag votes (pointer events), the undo bar counts down, the "waits for your vote" line follows
  at once, and "sent" shows before the bar fades.
- On every main page: no horizontal overflow, a header on one line, every standalone text link a
  44 × 44 px target, axe clean; a screenshot of each is kept in build/screenshots/ (gitignored).
- The installed app (Chromium's `--app` window: display-mode standalone) has a bottom navigation with the
  four places, within thumb reach and the phone's width, marking where you are.
- The settings page passes axe at the phone's and the desk's width.
"""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.batches import create_batch
from models.members import active_membership
from models.money import cents_to_input
from models.requests import DraftInput, post_request, save_draft
from models.teams import CostCategory
from models.votes import lift_stop, place_stop
from tests.browser.test_accessibility import LANGUAGES, assert_accessible, assert_accessible_on_phone_and_desk
from tests.browser.test_pwa import kept_online
from tests.card_world import SEPA_CONFIG, card_on, granted_request, municipality_id, with_categories

#: kept after the run (build/ is gitignored); not under test-results/, which pytest-playwright empties
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "build" / "screenshots")
PHONES = {"pixel7": None, "phone360": {"width": 360, "height": 740}}
LIVE = 3_000  # ms: a change reaches an open inbox within the live region's poll
UNDO = 5_000  # ms: a swiped vote leaves the phone when its undo window has passed

#: every <a> that stands alone in its block (not a link inside a sentence) and is shown, with its size
STANDALONE_LINKS = """() => {
  const blockOf = (el) => { let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith('inline')) node = node.parentElement;
    return node; };
  return [...document.querySelectorAll('a[href]')].filter((a) => a.getClientRects().length
      && getComputedStyle(a).visibility !== 'hidden' && !a.closest('.visually-hidden, .skip-link'))
    .filter((a) => { const block = blockOf(a);
      return block && block.textContent.replace(/\\s+/g, ' ').trim() === a.textContent.replace(/\\s+/g, ' ').trim(); })
    .map((a) => { const box = a.getBoundingClientRect();
      return {text: a.textContent.trim().slice(0, 40), width: Math.round(box.width), height: Math.round(box.height)}; });
}"""


def _open_request(session, team, requester, amount_cents=7_500, household="H-1"):
    """An open request of `requester` (the verbs, then one commit, as the view does)."""
    with_categories(session, team)
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "groceries")).one()
    draft = save_draft(session, team, active_membership(session, requester.id, team.id), DraftInput(
        amount=cents_to_input(amount_cents), cost_category_id=category_id, situation="Vader met twee kinderen.",
        prevents="Afsluiting.", household_reference=household), household_secret="test-household-secret")
    post_request(session, draft, team, requester.id)
    session.commit()
    return draft


def _in(page, lang, server_url):
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    return page


def _check_frame(page, lang, what, shots=None):
    """axe, no overflow, the header on one line, every standalone link a 44 × 44 target; keep a screenshot."""
    assert_accessible(page, lang, what)
    header = page.locator(".site-header")
    brand = page.locator(".site-header__brand").bounding_box()
    last = header.locator(":scope > *:visible").last.bounding_box()
    assert abs(last["y"] + last["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 8, f"{what}: the header wraps"
    assert header.bounding_box()["height"] < 80, f"{what}: the header is {header.bounding_box()['height']}px high"
    small = [link for link in page.evaluate(STANDALONE_LINKS) if link["width"] < 44 or link["height"] < 44]
    assert small == [], f"{what} ({lang}): links smaller than 44 × 44 px: {small}"
    if shots:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{shots}-{re.sub(r'[^a-z0-9]+', '-', what.lower())}.png"), full_page=True)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("phone_name", PHONES)
def test_a_stop_shows_on_the_inbox_card_and_its_swipe_waits_until_it_is_lifted(
        lang, phone_name, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    requester, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    consultant = make_member(team, "income_consultant", name="Ina")
    stopped = _open_request(session, team, requester)
    place_stop(session, stopped, active_membership(session, consultant.id, team.id), "Valt onder de bijzondere bijstand.")
    session.commit()
    viewport = PHONES[phone_name]
    page = _in(signed_in_phone(voter, **({"viewport": viewport} if viewport else {})), lang, server_url)
    page.goto(f"/teams/{team.id}")

    card = page.locator(f"#request-card-{stopped.id}")
    stopped_text = {"nl": "Gestopt door de inkomensconsulent: Valt onder de bijzondere bijstand.",
                    "en": "Stopped by the income consultant: Valt onder de bijzondere bijstand."}[lang]
    expect(card).to_contain_text(stopped_text)
    expect(card).not_to_have_attribute("data-swipe-card", "")
    expect(card.locator("[data-swipe-action]")).to_have_count(0)
    card.scroll_into_view_if_needed()
    before = card.bounding_box()
    box = card.locator(".request-card__situation").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    expect(card).to_be_visible()  # a drag over a stopped card votes nothing
    assert card.bounding_box()["x"] == before["x"]
    expect(page.locator("[data-undo-bar]")).to_be_hidden()
    _check_frame(page, lang, "inbox with a stopped request", shots=f"{phone_name}-{lang}")

    lift_stop(session, stopped, active_membership(session, consultant.id, team.id), "Bijzondere bijstand is afgewezen.")
    session.commit()
    expect(page.locator(f"#request-card-{stopped.id}[data-swipe-card]")).to_be_visible(timeout=LIVE)
    expect(page.locator(f"#request-card-{stopped.id}")).not_to_contain_text(stopped_text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_mouse_drag_votes_with_a_countdown_and_the_waiting_count_follows_at_once(
        lang, signed_in_phone, server_url, session, make_team, make_member):
    from models.votes import Vote
    team = make_team("Team Oost", annual_budget_cents=50_000)
    requester, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    first = _open_request(session, team, requester, household="H-1")
    _open_request(session, team, requester, amount_cents=2_000, household="H-2")
    desk = _in(signed_in_phone(voter, viewport={"width": 1280, "height": 800}, is_mobile=False, has_touch=False),
               lang, server_url)
    desk.goto(f"/teams/{team.id}")
    waiting = desk.locator("[data-waiting-count]")
    expect(waiting).to_have_text({"nl": "2 aanvragen wachten op jouw stem.", "en": "2 requests are waiting for your vote."}[lang])

    card = desk.locator(f"#request-card-{first.id}")
    card.scroll_into_view_if_needed()  # a pointer outside the viewport lands nowhere
    box = card.bounding_box()
    text = card.locator(".request-card__situation").bounding_box()  # grab the card by its text, not a control
    y = text["y"] + text["height"] / 2
    desk.mouse.move(box["x"] + 40, y)
    desk.mouse.down()
    desk.mouse.move(box["x"] + 40 + box["width"] * 0.6, y, steps=10)
    desk.mouse.up()
    expect(card).to_be_hidden()
    expect(waiting).to_have_text({"nl": "1 aanvraag wacht op jouw stem.", "en": "1 request is waiting for your vote."}[lang])
    countdown = desk.locator("[data-undo-countdown]")
    expect(countdown).to_have_text(re.compile({"nl": r"verstuurd over [45] s", "en": r"sent in [45] s"}[lang]))
    expect(countdown).to_have_text(re.compile({"nl": r"verstuurd over [1-3] s", "en": r"sent in [1-3] s"}[lang]), timeout=UNDO)
    status = desk.get_by_role("status")
    expect(status).to_contain_text({"nl": "Je stem is verstuurd.", "en": "Your vote has been sent."}[lang], timeout=UNDO)
    session.expire_all()
    assert [(v.request_id, v.choice) for v in session.exec(select(Vote))] == [(first.id, "approve")]
    expect(desk.locator("[data-undo-bar]")).to_be_hidden(timeout=6_000)  # the confirmation fades


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("phone_name", PHONES)
def test_main_pages_fit_the_phone_with_one_line_header_and_large_link_targets(
        lang, phone_name, signed_in_phone, phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost-Watergraafsmeer", annual_budget_cents=50_000)
    requester, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = _open_request(session, team, requester)
    viewport = PHONES[phone_name]
    options = {"viewport": viewport} if viewport else {}
    shots = f"{phone_name}-{lang}"
    page = _in(signed_in_phone(voter, **options), lang, server_url)

    page.goto(f"/teams/{team.id}")
    _check_frame(page, lang, "team inbox", shots)
    page.locator(".balance__line").click()  # the compact balance line opens the figures
    expect(page.locator("[data-balance=bank]")).to_be_visible()
    _check_frame(page, lang, "team inbox with the balance open")
    page.get_by_text({"nl": "Menu", "en": "Menu"}[lang], exact=True).click()
    menu = page.locator(".site-menu__list")
    expect(menu.get_by_role("link", name={"nl": "Meldingen", "en": "Notifications"}[lang])).to_be_visible()
    expect(menu.get_by_role("link", name={"nl": "Mijn passkeys", "en": "My passkeys"}[lang])).to_be_visible()
    _check_frame(page, lang, "the menu open", shots)
    menu.get_by_role("link", name={"nl": "Meldingen", "en": "Notifications"}[lang]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text({"nl": "Instellingen", "en": "Settings"}[lang])
    expect(page.locator("#push-toggle")).to_be_visible()
    _check_frame(page, lang, "settings", shots)
    for path, what in ((f"/teams/{team.id}/aanvragen/{request.id}", "request page"), ("/uitbak", "outbox"),
                       ("/mijn-passkeys", "my passkeys"), (f"/teams/{team.id}/aanvragen/nieuw", "new request")):
        page.goto(path)
        _check_frame(page, lang, what, shots)

    # In a browser tab the header does the work; the installed app's bottom navigation: test_the_installed_app…
    page.goto(f"/teams/{team.id}")
    expect(page.locator("[data-bottom-nav]")).to_be_hidden()

    # The coordinator's batch: its amounts fit (or the rows stack), the bank's "executed" stands apart.
    helper = make_member(team, "worker", name="Vera")
    granted = granted_request(session, team, requester, helper, 4_000, household="H-9")
    card = card_on(session, team, granted, coordinator, last_four="5678")
    batch = create_batch(session, municipality_id(session, team), card_ids=[card.id], top_ups={team.id: 4_000},
                         actor_id=coordinator.id)
    session.commit()
    desk = _in(signed_in_phone(coordinator, **options), lang, server_url)
    for path, what in (("/beheer", "coordinator overview"), ("/beheer/kaarten", "cards"),
                       (f"/beheer/kaarten/opdrachten/{batch.id}", "batch"), ("/beheer/bank", "bank")):
        desk.goto(path)
        _check_frame(desk, lang, what, shots)
    desk.goto(f"/beheer/kaarten/opdrachten/{batch.id}")
    for amount in desk.locator("table .table__number").all():
        box = amount.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= desk.viewport_size["width"], "a batch amount is cut off"

    # Signed out: the sign-in page and both welcomes.
    visitor = _in(phone(**options)[0], lang, server_url)
    visitor.goto("/inloggen")
    expect(visitor.locator("input:visible")).to_have_count(0)  # one button, no empty text box
    expect(visitor.get_by_role("button", name={"nl": "Inloggen met je passkey", "en": "Sign in with your passkey"}[lang])).to_be_visible()
    _check_frame(visitor, lang, "sign in", shots)


@pytest.fixture
def installed_app(playwright, browser_type_launch_args, pixel_7, live_server, session, tmp_path):
    """A phone whose window is the installed app: Chromium's `--app` window, where `(display-mode:
    standalone)` matches as on a home-screen app (Playwright itself cannot emulate display-mode).
    Signed in as `member` by a server-side session cookie, as signed_in_phone does."""
    from models.sign_in import start_login_session

    app, origin = live_server
    contexts = []

    def open_as(member, lang, **options):
        # the Pixel 7's size, pixel ratio, touch and user agent; not is_mobile, whose emulation makes
        # Chromium answer display-mode "browser" again
        device = {key: value for key, value in pixel_7.items() if key not in ("default_browser_type", "is_mobile")}
        launch = {**browser_type_launch_args,
                  "args": [*browser_type_launch_args["args"], f"--app={origin}/offline"]}
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"), **launch, **{**device, "base_url": origin, **options})
        contexts.append(context)
        login = start_login_session(session, member.id)
        session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": str(member.id), "_fresh": True, "login_key": login.key})
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": origin},
                             {"name": "lang", "value": lang, "url": origin}])
        return context.pages[0]

    yield open_as
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("phone_name", PHONES)
def test_the_installed_app_has_a_bottom_navigation_within_thumb_reach(lang, phone_name, installed_app, server_url,
                                                                      session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    worker = make_member(team, "worker", name="Wim")
    _open_request(session, team, make_member(team, "worker", name="Anna"))
    viewport = PHONES[phone_name]
    page = installed_app(worker, lang, **({"viewport": viewport} if viewport else {}))
    page.goto(f"/teams/{team.id}")
    assert page.evaluate("matchMedia('(display-mode: standalone)').matches"), "not the installed app's window"

    nav = page.locator("[data-bottom-nav]")
    expect(nav).to_be_visible()
    names = {"nl": ["Team", "Nieuwe aanvraag", "Nog te versturen", "Instellingen"],
             "en": ["Team", "New request", "Outbox", "Settings"]}[lang]
    links = nav.locator("a")
    assert [re.sub(r"\s+", " ", text).strip() for text in links.all_inner_texts()] == names
    hrefs = links.evaluate_all("links => links.map((a) => new URL(a.href).pathname)")
    assert hrefs == [f"/teams/{team.id}", f"/teams/{team.id}/aanvragen/nieuw", "/uitbak", "/instellingen"]
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in links.evaluate_all("links => links.map((a) => a.getBoundingClientRect().toJSON())"):
        # within thumb reach: the bottom fifth of the screen, each a 44 × 44 target inside the width
        assert box["width"] >= 44 and box["height"] >= 44 and box["right"] <= width and box["top"] >= height * 0.8
    # every word of a label stands on one line ("Instellinge / n" once did at 412 px)
    broken = links.evaluate_all("""links => links.flatMap((a) => {
      const words = [], walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode())
        for (const match of node.data.matchAll(/\\S+/g)) {
          const range = document.createRange(); range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          if (new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size > 1) words.push(match[0]);
        }
      return words; })""")
    assert broken == [], f"words broken across lines in the bottom navigation: {broken}"
    # the page's last content is not hidden behind the bar
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator("main > *:visible").last.bounding_box()
    assert last["y"] + last["height"] <= nav.bounding_box()["y"] + 1
    _check_frame(page, lang, "inbox as the installed app", f"{phone_name}-{lang}")
    links.nth(3).click()
    expect(page).to_have_url(re.compile(r"/instellingen$"))
    expect(nav.locator("a[aria-current=page]")).to_have_count(1)


@pytest.fixture
def app_config(app_config):
    """The live server knows the foundation's and the card bank's accounts (the batch page)."""
    return {**app_config, **SEPA_CONFIG}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_settings_page_passes_axe_on_the_phone_and_the_desk(lang, signed_in_phone, server_url, make_team,
                                                                  make_member):
    page = _in(signed_in_phone(make_member(make_team("Team Oost"), "worker")), lang, server_url)
    page.goto("/instellingen")
    expect(page.locator("#push-toggle")).to_be_visible()
    assert_accessible_on_phone_and_desk(page, lang, "settings")


def test_the_bank_executed_button_asks_first_and_stands_apart_from_the_download(
        signed_in_phone, session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    granted = granted_request(session, team, worker, voter, 4_000)
    card = card_on(session, team, granted, coordinator)
    batch = create_batch(session, municipality_id(session, team), card_ids=[card.id], top_ups={team.id: 4_000},
                         actor_id=coordinator.id)
    session.commit()
    desk = signed_in_phone(coordinator, viewport={"width": 360, "height": 740})
    desk.goto(f"/beheer/kaarten/opdrachten/{batch.id}")
    with desk.expect_download():
        desk.get_by_role("button", name="SEPA-bestand downloaden").click()
    desk.reload()
    executed = desk.get_by_role("button", name="De bank heeft de opdracht uitgevoerd")
    expect(desk.get_by_role("region", name="Uitgevoerd door de bank?")).to_contain_text("bankomgeving")
    desk.once("dialog", lambda dialog: dialog.dismiss())  # "did the bank really execute it?" — no
    executed.click()
    expect(desk.locator("[data-batch-state]")).to_contain_text("Gedownload")
    desk.once("dialog", lambda dialog: dialog.accept())
    executed.click()
    expect(desk.locator("[data-batch-state]")).to_contain_text("Uitgevoerd")


def test_a_first_invite_says_welcome_and_a_recovery_link_welcome_back(phone, session, make_team, make_member):
    from models.invites import invite_recovery, invite_to_team
    team = make_team("Team Oost")
    coordinator = make_member(team, "coordinator", name="Cora")
    existing = make_member(team, "worker", name="Rik")
    _invite, first_token = invite_to_team(session, coordinator, team, "worker")
    _invite, recovery_token = invite_recovery(session, coordinator, existing)
    session.commit()
    page, _authenticator = phone(viewport={"width": 360, "height": 740})
    page.goto(f"/uitnodiging/{first_token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom bij Teambudget")
    expect(page).to_have_title(re.compile("^Welkom bij Teambudget"))
    page.goto(f"/uitnodiging/{recovery_token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom terug, Rik")
    expect(page).to_have_title(re.compile("^Welkom terug ·"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_kept_copy_shows_when_a_request_was_sent_not_a_frozen_time_ago(
        lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    requester, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    request = _open_request(session, team, requester)
    page = _in(signed_in_phone(voter), lang, server_url)
    page.goto(f"/teams/{team.id}")
    meta = page.locator(f"#request-card-{request.id} .card__meta")
    expect(meta).to_contain_text({"nl": "geleden", "en": "ago"}[lang])
    kept_online(page, f"/teams/{team.id}")

    page.context.set_offline(True)
    assert page.reload().from_service_worker
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(meta).to_contain_text(re.compile({"nl": r"verstuurd op .*\d\d:\d\d", "en": r"sent on .*\d\d:\d\d"}[lang]))
    expect(meta).not_to_contain_text({"nl": "geleden", "en": "ago"}[lang])


def test_the_votes_extra_fields_open_only_for_the_choice_that_needs_them(
        signed_in_phone, session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    requester, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    request = _open_request(session, team, requester)
    page = signed_in_phone(voter, viewport={"width": 360, "height": 740})
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    amount, provision = page.get_by_label("Bedrag bij een lager bedrag of een lening"), page.get_by_label("Welke voorziening past?")
    expect(amount).to_be_hidden()
    expect(provision).to_be_hidden()
    page.get_by_label("Lening voorstellen").check()
    expect(amount).to_be_visible()
    expect(provision).to_be_hidden()
    page.get_by_label("Andere voorziening past").check()
    expect(amount).to_be_hidden()
    expect(provision).to_be_visible()
    page.get_by_role("button", name="Stem opslaan").click()  # no provision named: the field stays, with its message
    expect(provision).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Goedkeuren", exact=True).check()
    expect(provision).to_be_visible()
    _check_frame(page, "nl", "request page, the vote")
