"""Shared knowledge on a phone (issue 13 §3): a tip is suggested while a worker drafts a request, the worker
sees the household's earlier grants after typing its reference, a voter sees them on the request page; axe
finds nothing on the tips page (with a refusal beside its field) at 412 px, in Dutch and English."""
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.requests import RequestStatus
from models.teams import CostCategory, Municipality
from models.tips import write_tip
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import granted_request, municipality_id, with_categories


@pytest.fixture
def world(session, make_team, make_member):
    team = make_team("Team Oost")
    with_categories(session, team)
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, team)))
    mid = municipality_id(session, team)
    cat = {c.code: c.id for c in session.exec(select(CostCategory).where(CostCategory.municipality_id == mid))}
    world = {"team": team, "west": west, "cat": cat, "worker": make_member(team, "worker", name="Wim"),
             "voter": make_member(team, "worker", name="Vera"), "west_worker": make_member(west, "worker", name="Ria"),
             "west_voter": make_member(west, "worker", name="Rob")}
    write_tip(session, municipality_id=mid, team_id=west.id, author_id=world["west_worker"].id,
              body="Bij een naheffing van energie helpt de Energiebank snel.", category_ids=[cat["energy"]])
    session.commit()
    granted_request(session, west, world["west_worker"], world["west_voter"], 2_500, household="H-77")
    return world


def test_a_tip_is_suggested_and_the_households_history_shown_while_drafting(signed_in_phone, world):
    page = signed_in_phone(world["worker"])
    page.goto(f"/teams/{world['team'].id}/aanvragen/nieuw")
    page.locator("#situation").fill("Er ligt een naheffing van energie.")
    expect(page.locator("#tip-suggestions [data-tip]")).to_contain_text("Energiebank snel")
    page.locator("#household_reference").fill("h-77")
    page.locator("#household_reference").blur()
    expect(page.locator("#household-history [data-household-history]")).to_contain_text("Team West")
    expect(page.locator("#household-history")).to_contain_text("25,00")


def test_a_voter_sees_the_households_history(signed_in_phone, session, world):
    request = granted_request(session, world["team"], world["worker"], world["voter"], 4_000, household="H-77")
    request.status, request.granted_amount_cents = RequestStatus.OPEN, None
    session.add(request)
    session.commit()
    page = signed_in_phone(world["voter"])
    page.goto(f"/teams/{world['team'].id}/aanvragen/{request.id}")
    history = page.locator("section[aria-labelledby=household-history-title]")
    expect(history).to_contain_text("Team West")
    expect(history).to_contain_text("25,00")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_tips_page_has_no_axe_violations(lang, signed_in_phone, server_url, world):
    page = signed_in_phone(world["worker"])
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    assert page.viewport_size["width"] == 412
    page.goto(f"/teams/{world['team'].id}/tips")
    expect(page.locator("[data-tip]")).to_have_count(1)
    assert_accessible(page, lang, "the tips page")
    page.locator("#body").fill("Bel haar op 06-12345678 voor meer.")
    page.locator("input[name=category_ids]").first.check()
    page.locator("form[method=post] button.button--primary").click()
    expect(page.locator("#body-error")).to_be_visible()
    assert_accessible(page, lang, "a tip refused beside its field")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_failing_or_unreachable_server_shows_nothing_and_the_form_still_saves(signed_in_phone, world):
    page = signed_in_phone(world["worker"])
    answered = []
    page.route("**/huishouden*", lambda route: (answered.append(1), route.fulfill(
        status=500, content_type="text/html", body="<h1 data-broken>Fout</h1>")))
    page.route("**/tips/suggesties*", lambda route: (answered.append(2), route.abort()))
    page.goto(f"/teams/{world['team'].id}/aanvragen/nieuw")
    page.locator("#situation").fill("Er ligt een naheffing van energie.")
    page.locator("#household_reference").fill("h-77")
    page.locator("#household_reference").blur()
    page.wait_for_function("document.querySelectorAll('#household-history, #tip-suggestions').length === 2")
    page.wait_for_timeout(1000)
    assert sorted(set(answered)) == [1, 2]
    expect(page.locator("[data-broken]")).to_have_count(0)
    expect(page.locator("#tip-suggestions [data-tip]")).to_have_count(0)
    page.locator("#amount").fill("40")
    page.locator("button[value=save]").click()
    expect(page.locator(".notice[role=status]")).to_be_visible()
