"""axe-core finds no violations on the year close pages, in Dutch and English, on a phone and at a desk: the
budget years list, a year's checklist with every kind of blocker (and a cancel refused beside its reason),
the request page's cancel form, and the closed year with its statement; the close asks for confirmation."""
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.cards import Card, mark_handed_over, mark_spent
from models.requests import SpendRequest, withdraw_request
from models.teams import BudgetYear
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 412, "height": 915}


@pytest.fixture
def app_config(app_config):
    """The live server knows the foundation's and the card bank's accounts."""
    return {**app_config, **SEPA_CONFIG}


def _at_both_sizes(page, lang, what):
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"{what} at {size['width']} px")
    page.set_viewport_size(PHONE)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_year_close_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, clock, make_team,
                                                 make_member):
    team = make_team("Team Oost", annual_budget_cents=250_000)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id(session, team))).one()
    not_loaded = granted_request(session, team, worker, voter, 4_000, household="H-1")
    spent = granted_request(session, team, worker, voter, 6_000, household="H-2")
    card = card_on(session, team, spent, coordinator, last_four="1234")
    loaded(session, team, [card], coordinator)
    open_request = SpendRequest(team_id=team.id, requester_id=worker.id, status="open", amount_cents=2_000,
                                situation="s", prevents="p", posted_at=datetime.now(timezone.utc),
                                budget_year_id=year.id)
    session.add(open_request)
    session.commit()

    phone = signed_in_phone(worker)
    phone.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    phone.goto(f"/teams/{team.id}/aanvragen/{not_loaded.id}")
    phone.locator(".cancel-grant summary").click()
    expect(phone.locator("#cancel_reason")).to_be_visible()
    assert_accessible(phone, lang, "the request page with the cancel form")

    clock(datetime(year.year + 1, 1, 5, 9, tzinfo=timezone.utc))  # the year has ended
    desk = signed_in_phone(coordinator)
    desk.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    desk.goto("/beheer/jaarafsluiting")
    _at_both_sizes(desk, lang, "the budget years to close")
    desk.goto(f"/beheer/jaarafsluiting/{year.id}")
    expect(desk.locator("[data-blocker]")).to_have_count(3)
    _at_both_sizes(desk, lang, "the checklist with blockers")
    desk.locator(f"form[action$='/aanvragen/{not_loaded.id}/annuleren'] button").click()
    expect(desk.locator(f"#request_{not_loaded.id}-error")).to_be_visible()
    assert_accessible(desk, lang, "a cancel refused beside its reason")
    desk.locator(f"#reason-{not_loaded.id}").fill("Niet meer nodig.")
    desk.locator(f"form[action$='/aanvragen/{not_loaded.id}/annuleren'] button").click()
    expect(desk.locator("[data-blocker='grants_not_loaded']")).to_have_count(0)

    found = session.get(Card, card.id)
    mark_handed_over(session, found)
    mark_spent(session, found, actor_id=coordinator.id)
    withdraw_request(session, session.get(SpendRequest, open_request.id), worker.id)
    session.commit()
    desk.reload()
    expect(desk.locator("[data-no-blockers]")).to_be_visible()
    assert_accessible(desk, lang, "the checklist ready to close")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.locator(f"form[action$='/{year.id}/afsluiten'] button").click()
    expect(desk.locator("[data-year-closed]")).to_be_visible()
    _at_both_sizes(desk, lang, "the closed year with its statement")
    with desk.expect_download() as download:
        desk.locator("[data-statement] a[download]").click()
    assert download.value.suggested_filename == f"jaaroverzicht-{year.year}.csv"
