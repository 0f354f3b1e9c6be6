"""The outbox on a phone: offline drafts and votes, exactly-once sync, conflicts, and sign-out.

Each test lets the service worker control the phone and keep the pages first (tests/browser/test_pwa.py),
then goes offline with context.set_offline(True). Playwright's offline emulation does not fire the
`online` event, so the tests dispatch it, as the browser would.
"""
import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError, expect
from sqlalchemy import func
from sqlmodel import select

from models.members import active_membership
from models.outbox import ClientOperation
from models.receipts import Receipt
from models.requests import DraftInput, RequestStatus, SpendRequest, post_request, save_draft, withdraw_request
from models.catalogue import add_default_provisions
from models.teams import CostCategory, District, Municipality, add_default_cost_categories
from models.sign_in import start_login_session
from models.votes import Vote
from tests.browser.conftest import swipe
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_pwa import back_online, controlled, kept_online, offline_on
from tests.http.test_receipts import grant

#: never creates the database: an empty one made here (version 1, no stores) would break the page's outbox.
#: null (ask again) when the database is being deleted or created meanwhile, or does not answer within 2 s.
OUTBOX_ITEMS = """() => Promise.race([new Promise((resolve) => setTimeout(() => resolve(null), 2000)),
  indexedDB.databases().then((known) => known.some((d) => d.name === 'teambudget')
  && new Promise((resolve, reject) => {
    const opening = indexedDB.open('teambudget');
    opening.onblocked = () => resolve(null);
    opening.onupgradeneeded = () => { opening.transaction.abort(); resolve(null); };
    opening.onsuccess = () => {
        const db = opening.result;
        if (!db.objectStoreNames.contains('outbox')) { db.close(); resolve([]); return; }
        const all = db.transaction('outbox').objectStore('outbox').getAll();
        all.onsuccess = () => { db.close(); resolve(all.result.map(item => item.state)); };
        all.onerror = () => reject(all.error);
    };
    opening.onerror = () => resolve(null);
})).then((items) => items === false ? [] : items)])"""


@pytest.fixture
def app_config(app_config, tmp_path):
    """Receipt photos (if any get through) in this test's own folder."""
    return {**app_config, "RECEIPTS_PATH": str(tmp_path / "receipts")}


@pytest.fixture
def team_with_categories(session, make_team, make_member):
    """Team Oost with the cost categories, a requester and two voters."""
    team = make_team("Team Oost", annual_budget_cents=50_000)
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    add_default_cost_categories(session, municipality)
    add_default_provisions(session, municipality)  # the request form's "already checked" list
    session.commit()
    members = {name: make_member(team, "worker", name=name.capitalize()) for name in ("noor", "anna", "bram")}
    return team, members


def _count(session, model, *where):
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _outbox_states(page):
    """The states of the items in the phone's outbox; None while the page is between two documents."""
    try:
        return page.evaluate(OUTBOX_ITEMS)
    except PlaywrightError:  # back online, app.js reloads a kept copy by itself
        return None


def _outbox_becomes(page, states):
    """Wait until the phone's outbox holds items in exactly these states."""
    seen = []
    try:
        _wait_for(lambda: seen.append(_outbox_states(page)) or seen[-1] == states)
    except AssertionError:
        raise AssertionError(f"outbox {seen[-3:]}, wanted {states}")


def _fill_request(page):
    page.get_by_label("Bedrag in euro").fill("75")
    page.get_by_label("Waarvoor is het geld?").select_option(label="Boodschappen en leefgeld")
    page.get_by_label("Situatie").fill("Moeder van drie kinderen met een uitkering, wacht op haar bezwaar.")
    page.get_by_label("Wat voorkomt het?").fill("Dat de kinderen deze week zonder eten zitten.")
    page.get_by_label("Je nummer voor dit huishouden").fill("D-2026-0042")


def _outbox_runs(page):
    """How many outbox runs this page has finished (outbox.js counts them on <html data-outbox-runs>)."""
    return int(page.evaluate("() => document.documentElement.dataset.outboxRuns || '0'"))


def _after_next_outbox_run(page, action):
    """Do `action`, then wait until the page's outbox has finished a run that started after it."""
    before = _outbox_runs(page)
    action()
    page.wait_for_function("n => Number(document.documentElement.dataset.outboxRuns || 0) > n", arg=before)


def offline_on_a_granted_request(signed_in_phone, session, make_team, make_member):
    """Wim's phone without signal on his granted request, whose card the client received: (team, page)."""
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    page = signed_in_phone(worker)
    offline_on(page, f"/teams/{team.id}/aanvragen/{grant(session, team, worker).id}")
    return team, page


def _outbox_item(page, text):
    """The outbox page's item that says `text`, opened once the page that queued it has settled."""
    page.wait_for_load_state()
    page.goto("/uitbak")
    return page.get_by_role("listitem").filter(has_text=text)


def test_draft_made_offline_survives_closing_and_syncs_exactly_once(signed_in_phone, team_with_categories, session):
    team, members = team_with_categories
    page = signed_in_phone(members["noor"])
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    offline_on(page, form_url)
    _fill_request(page)
    _outbox_becomes(page, ["draft"])
    # the draft is saved at every change: wait for the save of the last field before closing the app
    _wait_for(lambda: [fields.get("household_reference") for fields in page.evaluate(OUTBOX_FIELDS) or []]
              == [["D-2026-0042"]])
    context = page.context
    page.close()  # the app is closed, the phone stays offline

    page = context.new_page()
    page.goto(form_url)
    expect(page.get_by_label("Bedrag in euro")).to_have_value("75")
    expect(page.get_by_label("Situatie")).to_have_value("Moeder van drie kinderen met een uitkering, wacht op haar bezwaar.")
    expect(page.get_by_label("Je nummer voor dit huishouden")).to_have_value("D-2026-0042")
    page.get_by_role("button", name="Versturen naar het team").click()
    expect(page.get_by_role("status").filter(has_text="Bewaard op deze telefoon")).to_be_visible()
    expect(page.get_by_role("link", name="Nog te versturen (1)")).to_be_visible()
    assert _count(session, SpendRequest) == 0

    back_online(page)
    _wait_for(lambda: _count(session, SpendRequest) == 1)
    _outbox_becomes(page, [])
    page.goto(form_url)  # app start: a sync that finds nothing more to send
    expect(page.get_by_label("Bedrag in euro")).to_have_value("")
    page.wait_for_function("() => Number(document.documentElement.dataset.outboxRuns || 0) > 0")
    assert _count(session, SpendRequest, SpendRequest.status == RequestStatus.OPEN) == 1
    assert _count(session, ClientOperation) == 1



def test_a_browser_without_random_uuid_still_queues_with_a_uuid(signed_in_phone, team_with_categories, session):
    """Older browsers lack crypto.randomUUID: the outbox makes its version-4 UUID from getRandomValues."""
    team, members = team_with_categories
    page = signed_in_phone(members["noor"])
    page.context.add_init_script("Object.defineProperty(Crypto.prototype, 'randomUUID', { value: undefined });")
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    page.goto(form_url)
    kept_online(page, form_url)
    assert page.evaluate("() => typeof crypto.randomUUID") == "undefined"
    ids = page.evaluate("() => Array.from({ length: 200 }, () => teambudgetOutbox.newId())")
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)

    page.context.set_offline(True)
    page.reload()
    _fill_request(page)
    page.get_by_role("button", name="Versturen naar het team").click()
    expect(page.get_by_role("status").filter(has_text="Bewaard op deze telefoon")).to_be_visible()
    back_online(page)
    _wait_for(lambda: _count(session, SpendRequest, SpendRequest.status == RequestStatus.OPEN) == 1)
    [operation] = session.exec(select(ClientOperation)).all()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", operation.client_uuid)

def test_sync_cut_off_by_closing_the_page_leaves_no_duplicate_and_no_loss(signed_in_phone, team_with_categories, session):
    team, members = team_with_categories
    page = signed_in_phone(members["noor"])
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    page.goto(form_url)
    controlled(page)
    applied = []

    def apply_then_hang(route):
        """The server applies the post, but its answer never reaches the page."""
        applied.append(route.fetch(max_redirects=0).status)

    page.route(f"**/teams/{team.id}/aanvragen", apply_then_hang)
    _fill_request(page)
    page.get_by_role("button", name="Versturen naar het team").click()
    _wait_for(lambda: page.wait_for_timeout(50) or applied)
    assert applied == [200]
    assert page.evaluate(OUTBOX_ITEMS) == ["sending"]
    context = page.context
    page.close()

    page = context.new_page()  # reopening the app sends it again, with the same UUID
    page.goto(f"/teams/{team.id}")
    _outbox_becomes(page, [])
    assert _count(session, SpendRequest) == 1
    assert _count(session, ClientOperation) == 1
    expect(page.get_by_role("link", name="Nog te versturen")).to_have_text("Nog te versturen")


def _open_request(session, app, team, requester):
    membership = active_membership(session, requester.id, team.id)
    category = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).one()
    draft = save_draft(session, team, membership, DraftInput(
        amount="75", cost_category_id=category.id, situation="Vader met twee kinderen, wacht op zijn loon.",
        prevents="Afsluiting van de energie.", household_reference="D-1"),
        household_secret=app.config["HOUSEHOLD_KEY_SECRET"])
    post_request(session, draft, team, requester.id)
    session.commit()
    return draft


def test_vote_queued_offline_on_a_request_decided_meanwhile_shows_the_conflict(
        signed_in_phone, team_with_categories, session, live_server):
    team, members = team_with_categories
    spend_request = _open_request(session, live_server[0], team, members["noor"])
    page = signed_in_phone(members["anna"])
    offline_on(page, f"/teams/{team.id}")
    swipe(page, page.locator("[data-swipe-card]"), 220)
    expect(page.get_by_role("status").filter(has_text="Je stem wacht op je telefoon")).to_be_visible(timeout=8_000)

    withdraw_request(session, session.get(SpendRequest, spend_request.id), members["noor"].id)  # meanwhile
    session.commit()
    back_online(page)
    _outbox_becomes(page, ["conflict"])
    item = _outbox_item(page, "Over deze aanvraag is al besloten.")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Niet verstuurd")
    expect(item).to_contain_text("€\xa075,00")
    assert _count(session, Vote) == 0
    assert_accessible(page, "nl", "outbox with a conflict")

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Weggooien").click()
    expect(page.get_by_text("Er wacht niets meer")).to_be_visible()
    assert page.evaluate(OUTBOX_ITEMS) == []


def test_outbox_page_opens_offline(signed_in_phone, team_with_categories):
    team, members = team_with_categories
    page = signed_in_phone(members["anna"])
    page.goto(f"/teams/{team.id}")
    controlled(page)
    page.context.set_offline(True)
    page.goto("/uitbak")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nog te versturen")
    expect(page.get_by_text("Er wacht niets meer")).to_be_visible()


def test_sign_out_warns_about_unsent_items_then_leaves_nothing(signed_in_phone, team_with_categories):
    team, members = team_with_categories
    page = signed_in_phone(members["noor"])
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    page.goto(form_url)
    kept_online(page, form_url)
    page.get_by_label("Bedrag in euro").fill("40")
    _outbox_becomes(page, ["draft"])

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Uitloggen").click()
    _wait_for(lambda: page.wait_for_timeout(50) or questions)
    assert questions == ["1 ding is nog niet verstuurd. Toch uitloggen? Dan is het weg van deze telefoon."]
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()  # cancelled: still signed in
    assert page.evaluate(OUTBOX_ITEMS) == ["draft"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1, name="Inloggen")).to_be_visible()
    controlled(page)
    assert page.evaluate("() => indexedDB.databases()") == []
    assert not [name for name in page.evaluate("() => caches.keys()") if name.startswith("pages-")]


OUTBOX_FIELDS = OUTBOX_ITEMS.replace("item => item.state", "item => item.fields")


def _sign_in_on(page, live_server, session, member):
    """Another sign-in on this phone (the earlier session timed out, or someone else picked up the phone)."""
    app, origin = live_server
    login = start_login_session(session, member.id)
    session.commit()
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": str(member.id), "_fresh": True, "login_key": login.key})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": origin}])


def _votes_by(session, member):
    return _count(session, Vote, Vote.member_id == member.id)


def test_on_a_shared_phone_a_queued_vote_waits_for_its_own_member(signed_in_phone, team_with_categories, session,
                                                                   live_server):
    team, members = team_with_categories
    spend_request = _open_request(session, live_server[0], team, members["noor"])
    page = signed_in_phone(members["anna"])
    offline_on(page, f"/teams/{team.id}")
    swipe(page, page.locator("[data-swipe-card]"), 220)
    _outbox_becomes(page, ["waiting"])

    _sign_in_on(page, live_server, session, members["bram"])  # Anna's session ended; Bram signs in on her phone
    back_online(page)
    _outbox_becomes(page, ["other_account"])
    item = _outbox_item(page, "Van een ander account")
    expect(item).to_contain_text("Log in als die persoon om te versturen, of gooi het weg.")
    expect(item).to_contain_text("Niet verstuurd: van een ander account")
    # Bram may press it: it still waits for Anna
    _after_next_outbox_run(page, page.get_by_role("button", name="Nu versturen").click)
    assert _outbox_states(page) == ["other_account"]
    assert _count(session, Vote) == 0
    expect(item.get_by_role("heading")).to_have_text("Stem: € 75,00 · Boodschappen en leefgeld")
    assert_accessible(page, "nl", "outbox with another account's item")
    # the list speaks the language of the moment it is read, not of the moment the vote was queued
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])
    page.goto("/uitbak")
    item = page.get_by_role("listitem").filter(has_text="From another account")
    expect(item.get_by_role("heading")).to_have_text("Vote: € 75,00 · Boodschappen en leefgeld")
    assert_accessible(page, "en", "outbox with another account's item")
    page.context.add_cookies([{"name": "lang", "value": "nl", "url": page.url}])

    _sign_in_on(page, live_server, session, members["anna"])
    page.goto(f"/teams/{team.id}")  # app start: Anna's vote goes now, as hers
    _outbox_becomes(page, [])
    assert _votes_by(session, members["anna"]) == 1 and _count(session, Vote) == 1
    assert _count(session, Vote, Vote.request_id == spend_request.id) == 1


def test_an_offline_swipe_says_the_vote_waits_and_an_offline_reload_marks_its_card(
        signed_in_phone, team_with_categories, session, live_server):
    team, members = team_with_categories
    _open_request(session, live_server[0], team, members["noor"])
    page = signed_in_phone(members["anna"])
    offline_on(page, f"/teams/{team.id}")
    swipe(page, page.locator("[data-swipe-card]"), 220)

    bar = page.locator("[data-undo-bar]")
    expect(bar).to_have_attribute("role", "status")
    expect(bar).to_contain_text("Je stem wacht op je telefoon", timeout=8_000)
    expect(page.get_by_role("button", name="Ongedaan maken")).to_be_hidden()  # nothing left to undo here

    page.reload()  # still offline: the kept inbox, with the vote only in the outbox
    card = page.locator("[data-swipe-card]")
    expect(card).to_contain_text("Je stem wacht op je telefoon en is nog niet verstuurd.")
    expect(card.get_by_role("button", name=re.compile("Goedkeuren"))).to_be_hidden()
    expect(card.get_by_role("button", name=re.compile("Afwijzen"))).to_be_hidden()
    assert_accessible(page, "nl", "inbox with a vote waiting in the outbox")
    assert _count(session, Vote) == 0


def test_ticked_alternatives_survive_an_offline_restore_and_are_sent(signed_in_phone, team_with_categories, session):
    team, members = team_with_categories
    page = signed_in_phone(members["noor"])
    form_url = f"/teams/{team.id}/aanvragen/nieuw"
    page.goto(form_url)
    kept_online(page, form_url)
    _fill_request(page)
    page.get_by_label("Voedselbank").check()  # the category's alternatives came from the server
    _wait_for(lambda: [f.get("alternatives_checked") for f in page.evaluate(OUTBOX_FIELDS)] == [["Voedselbank"]])

    page.context.set_offline(True)
    page.reload()  # the kept form, restored from the outbox; the alternatives cannot be fetched now
    expect(page.get_by_label("Situatie")).to_have_value(re.compile("Moeder van drie"))
    page.get_by_label("Wat voorkomt het?").fill("Dat de kinderen zonder eten zitten.")  # saved without the boxes
    _wait_for(lambda: [f["prevents"] for f in page.evaluate(OUTBOX_FIELDS)] == [["Dat de kinderen zonder eten zitten."]])
    assert [f.get("alternatives_checked") for f in page.evaluate(OUTBOX_FIELDS)] == [["Voedselbank"]]
    page.get_by_role("button", name="Versturen naar het team").click()
    _outbox_becomes(page, ["waiting"])

    back_online(page)
    _wait_for(lambda: _count(session, SpendRequest) == 1)
    assert session.exec(select(SpendRequest)).one().alternatives_checked == ["Voedselbank"]


def test_sign_out_counts_a_photo_waiting_in_the_outbox_then_leaves_nothing(signed_in_phone, session, make_team,
                                                                          make_member):
    team, page = offline_on_a_granted_request(signed_in_phone, session, make_team, make_member)
    page.set_input_files("#photo", files=[{"name": "bonnetje.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"geen foto, maar tekst " * 50}])
    _outbox_becomes(page, ["waiting"])

    back_online(page)  # sent, and refused: the refusal stays on the item
    _outbox_becomes(page, ["conflict"])
    item = _outbox_item(page, "Foto van een bonnetje")
    expect(item).to_contain_text("Dit is geen foto")
    expect(item).to_contain_text("Niet verstuurd")
    assert _count(session, Receipt) == 0

    page.goto(f"/teams/{team.id}")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1, name="Inloggen")).to_be_visible()
    assert questions == ["1 ding is nog niet verstuurd. Toch uitloggen? Dan is het weg van deze telefoon."]
    controlled(page)
    assert page.evaluate("() => indexedDB.databases()") == []
