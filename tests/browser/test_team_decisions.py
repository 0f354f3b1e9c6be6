"""A team decides on phones: post, swipe-approve, approve a lower amount, see it live everywhere."""
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import func, select

from models.outbox import ClientOperation
from models.requests import RequestStatus, SpendRequest
from models.catalogue import add_default_provisions
from models.teams import District, Municipality, add_default_cost_categories
from models.votes import Vote
from tests.browser.conftest import swipe

LIVE = 2_000  # ms: every member sees a change within two seconds, without reloading
UNDO = 5_000  # ms: a swiped vote leaves the phone when its undo window has passed


def _eventually(condition, timeout=(UNDO + LIVE) / 1000 + 10):
    """Wait until `condition()` holds (what the server stored), polling; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def team_on_phones(session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    add_default_cost_categories(session, municipality)
    add_default_provisions(session, municipality)  # the request form's "already checked" list
    session.commit()
    names = {"poster": "worker", "anna": "worker", "bram": "provisions_expert", "chantal": "worker"}
    return team, {name: make_member(team, role, name=name.capitalize()) for name, role in names.items()}


def _post(page, team, amount="75"):
    page.goto(f"/teams/{team.id}")
    page.get_by_role("link", name="Nieuwe aanvraag").click()
    page.get_by_label("Bedrag in euro").fill(amount)
    page.get_by_label("Waarvoor is het geld?").select_option(label="Boodschappen en leefgeld")
    page.get_by_label("Voedselbank").check()
    page.get_by_label("Situatie").fill("Moeder van drie kinderen met een uitkering, wacht op haar bezwaar.")
    page.get_by_label("Wat voorkomt het?").fill("Dat de kinderen deze week zonder eten zitten.")
    page.get_by_label("Je nummer voor dit huishouden").fill("D-2026-0042")
    page.get_by_role("button", name="Versturen naar het team").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Boodschappen en leefgeld")


def test_three_phones_grant_the_lower_amount_and_every_balance_follows(signed_in_phone, team_on_phones, session):
    team, members = team_on_phones
    anna, bram, chantal = (signed_in_phone(members[name]) for name in ("anna", "bram", "chantal"))
    for page in (anna, bram):
        page.goto(f"/teams/{team.id}")
        expect(page.locator('[data-balance="available"]')).to_have_text("€\xa0500,00")
    poster = signed_in_phone(members["poster"])
    _post(poster, team)

    # The new request appears on the open phones without a reload.
    for page in (anna, bram):
        expect(page.locator("[data-swipe-card]")).to_have_count(1, timeout=LIVE)
    swipe(anna, anna.locator("[data-swipe-card]"), 220)
    swipe(bram, bram.locator("[data-swipe-card]"), 220)
    for page in (anna, bram):
        expect(page.get_by_role("status")).to_contain_text("Goedgekeurd")
    # The votes are sent when the undo window has passed.
    expect(poster.get_by_role("heading", name="2 stemmen")).to_be_visible(timeout=UNDO + LIVE + 1_000)

    request_id = session.exec(select(SpendRequest.id)).one()
    chantal.goto(f"/teams/{team.id}/aanvragen/{request_id}")
    chantal.get_by_label("Goedkeuren, lager bedrag").check()
    chantal.get_by_label("Bedrag bij een lager bedrag of een lening").fill("60")
    chantal.get_by_label("Waarom (mag leeg)").fill("Met 60 euro redt ze het tot de uitkering.")
    chantal.get_by_role("button", name="Stem opslaan").click()
    expect(chantal.locator("[data-request-status]")).to_contain_text("Toegekend: €\xa060,00")

    expect(poster.locator("[data-request-status]")).to_contain_text("Toegekend: €\xa060,00", timeout=LIVE)
    for page in (anna, bram):
        expect(page.locator('[data-balance="available"]')).to_have_text("€\xa0440,00", timeout=LIVE)
        expect(page.locator("[data-swipe-card]")).to_have_count(0)
    session.expire_all()
    granted = session.exec(select(SpendRequest)).one()
    assert granted.status == RequestStatus.GRANTED and granted.granted_amount_cents == 6_000


def test_swipe_can_be_undone_and_left_swipe_rejects(signed_in_phone, team_on_phones, session):
    team, members = team_on_phones
    _post(signed_in_phone(members["poster"]), team)
    anna = signed_in_phone(members["anna"])
    anna.goto(f"/teams/{team.id}")
    card = anna.locator("[data-swipe-card]")
    swipe(anna, card, 220)
    expect(card).to_be_hidden()
    anna.get_by_role("button", name="Ongedaan maken").click()
    expect(card).to_be_visible()

    swipe(anna, card, -220)
    expect(anna.get_by_role("status")).to_contain_text("Afgewezen")
    _eventually(lambda: session.exec(select(Vote.choice)).all() == ["reject"])
    # the undone approval never left the phone: one vote was sent in all, and it was the rejection
    assert session.exec(select(func.count()).select_from(ClientOperation)
                        .where(ClientOperation.member_id == members["anna"].id)).one() == 1


def test_buttons_vote_for_keyboard_users(signed_in_phone, team_on_phones, session):
    team, members = team_on_phones
    _post(signed_in_phone(members["poster"]), team)
    bram = signed_in_phone(members["bram"])
    bram.goto(f"/teams/{team.id}")
    bram.get_by_role("button", name="Goedkeuren").focus()
    bram.keyboard.press("Enter")
    expect(bram.get_by_role("button", name="Ongedaan maken")).to_be_focused()
    bram.keyboard.press("Enter")  # undo, by keyboard too
    expect(bram.get_by_role("button", name="Goedkeuren")).to_be_focused()
    bram.get_by_role("button", name="Goedkeuren").press("Enter")
    expect(bram.get_by_text("jij stemde: goedkeuren")).to_be_visible(timeout=UNDO + LIVE + 1_000)
    session.expire_all()
    assert session.exec(select(Vote.choice)).all() == ["approve"]
